import type http from 'node:http';

/** Request bodies up to this size are kept until an answer starts, so a refused attempt can be sent again. */
export const MAX_REPLAY_BYTES = 64 * 1024;

/**
 * What has been read of a request's body, kept (up to {@link MAX_REPLAY_BYTES}) until an answer
 * starts, so an attempt an instance refused can be sent again — to another instance or to the
 * activator. Used by the activator's proxy and by the local router.
 *
 * @example
 *   const body = new BodyReplay(req)
 *   body.sendTo(up)                        // what was kept, then the rest as it arrives
 *   // refused before any answer:
 *   if (body.replayable) { body.detach(up); up.destroy(); body.sendTo(next) }
 */
export class BodyReplay {
  /** The request has a body (a length other than 0, or chunked). */
  readonly hasBody: boolean;
  private chunks: Buffer[] | undefined;
  private bytes = 0;
  private ended: boolean;

  constructor(private readonly req: http.IncomingMessage) {
    this.hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
    this.chunks = this.hasBody ? [] : undefined;
    this.ended = !this.hasBody;
    if (this.hasBody) {
      req.on('data', (chunk: Buffer) => {
        if (!this.chunks) return;
        this.bytes += chunk.length;
        if (this.bytes > MAX_REPLAY_BYTES) this.chunks = undefined;
        else this.chunks.push(chunk);
      });
      req.on('end', () => (this.ended = true));
    }
  }

  /** An attempt can be sent again: there is no body, or all of it read so far is kept. */
  get replayable(): boolean {
    return !this.hasBody || this.chunks !== undefined;
  }

  /** An answer started: nothing will be sent again, so stop keeping the body. */
  release(): void {
    this.chunks = undefined;
  }

  /** Sends the body to `up`: what was kept, then the rest as it arrives; ends `up` with the body. */
  sendTo(up: http.ClientRequest): void {
    if (!this.hasBody) {
      up.end();
      return;
    }
    for (const chunk of this.chunks ?? []) up.write(chunk);
    if (this.ended) up.end();
    else this.req.pipe(up);
  }

  /** Stops sending the rest of the body to `up` (a refused attempt). */
  detach(up: http.ClientRequest): void {
    if (this.hasBody) this.req.unpipe(up);
  }
}
