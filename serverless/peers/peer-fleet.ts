import { messageOf } from '../../lib/errors.js';
import { silentLogger, type Logger } from '../../lib/log.js';
import type { Activator, MeterStats } from '../activator/activator.js';
import type { ActivatorFleet } from '../autoscaler/fleet.js';
import type { Member, Membership } from './membership.js';
import type { PeerClient } from './peer-client.js';

export interface PeerFleetOptions {
  /** This replica's activator (reached in process). */
  activator: Activator;
  identity: string;
  membership: Membership;
  client: PeerClient;
  logger?: Logger;
}

/**
 * Every live activator replica, for the leader's autoscaler: it reads each one's meter (Knative's
 * way: the autoscaler sees all the traffic, wherever it entered) and drains instances on all of
 * them before a scale-down removes any — so no replica is left sending a request to an instance
 * being removed. A replica that dies during a drain counts as drained (nothing of its is in flight
 * any more); one that cannot be reached while alive calls the drain off, as does a request arriving
 * anywhere during a drain to zero. A replica that joins during a drain is asked to drain too before
 * the scale-down commits.
 */
export class PeerFleet implements ActivatorFleet {
  private readonly logger: Logger;

  constructor(private readonly options: PeerFleetOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  private others(): Member[] {
    return this.options.membership.members().filter((m) => m.identity !== this.options.identity);
  }

  private alive(member: Member): boolean {
    return this.options.membership.members().some((m) => m.identity === member.identity);
  }

  async collect(): Promise<MeterStats[]> {
    const { activator, identity, client } = this.options;
    const remote = await Promise.all(
      this.others().map((m) =>
        client.stats(m).catch((err: unknown) => {
          this.logger.debug({ member: m.identity, err: messageOf(err) }, "reading a peer's meter failed");
          return undefined;
        }),
      ),
    );
    return [activator.stats(identity), ...remote.filter((s): s is MeterStats => s !== undefined)];
  }

  async retire(key: string, ids: string[], toZero: boolean): Promise<boolean> {
    const asked = new Set<string>();
    const local = this.options.activator.retire(key, ids, toZero);
    let members = this.others();
    // Rounds: the replicas known now, then any that joined meanwhile (at most a few times).
    for (let round = 0; round < 3; round++) {
      const fresh = members.filter((m) => !asked.has(m.identity));
      for (const m of fresh) asked.add(m.identity);
      const ok = await this.drainOn(key, ids, toZero, fresh, round === 0 ? local : Promise.resolve(true));
      if (!ok) {
        this.callOff(key, [...asked]);
        return false;
      }
      members = this.others();
      if (members.every((m) => asked.has(m.identity))) return true;
    }
    this.callOff(key, [...asked]);
    return false;
  }

  async unretire(key: string, ids: string[]): Promise<void> {
    this.options.activator.traffic(key)?.unretire(ids);
    await Promise.all(
      this.others().map((m) =>
        this.options.client
          .unretire(m, key, ids)
          .catch((err: unknown) =>
            this.logger.warn({ member: m.identity, err: messageOf(err) }, 'giving retired instances back failed'),
          ),
      ),
    );
  }

  /** True once `local` and every member committed; false as soon as one calls it off. */
  private drainOn(
    key: string,
    ids: string[],
    toZero: boolean,
    members: Member[],
    local: Promise<boolean>,
  ): Promise<boolean> {
    const { client, membership } = this.options;
    return new Promise((resolve) => {
      let pending = members.length + 1;
      let settled = false;
      const aborts = new Map(members.map((m) => [m.identity, new AbortController()]));
      let unwatch = () => {};
      const finish = (ok: boolean) => {
        if (settled) return;
        settled = true;
        unwatch();
        for (const a of aborts.values()) a.abort();
        resolve(ok);
      };
      const done = (ok: boolean) => (ok ? --pending === 0 && finish(true) : finish(false));
      // A replica that died mid-drain holds nothing any more: stop waiting for it.
      const watch = () => {
        for (const m of members) if (aborts.has(m.identity) && !this.alive(m)) aborts.get(m.identity)!.abort();
      };
      unwatch = membership.onChange(watch);
      void local.then(done);
      for (const m of members) {
        client.retire(m, { key, ids, toZero }, aborts.get(m.identity)!.signal).then(done, (err: unknown) => {
          if (settled) return;
          const gone = !this.alive(m);
          if (!gone)
            this.logger.warn(
              { member: m.identity, err: messageOf(err) },
              'a peer could not drain: calling the scale-down off',
            );
          aborts.delete(m.identity);
          done(gone);
        });
      }
    });
  }

  private callOff(key: string, identities: string[]): void {
    this.options.activator.traffic(key)?.cancelRetire();
    for (const m of this.others())
      if (identities.includes(m.identity)) void this.options.client.cancel(m, key).catch(() => undefined);
  }
}
