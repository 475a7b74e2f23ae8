import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FunctionObject, FunctionSpec } from '../../serverless/function/config.js';

/** Folder of the test handler (`node handler.js`): /sleep, /echo, /stream, answers with its pid and port. */
export const HANDLER_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'integration', 'testdata');

/** The node name every serverless test's local runner uses (suites run one after another). */
export const TEST_RUNNER_NODE = 'trellis-local-runner-test';

/** A Function running the test handler locally. */
export function testFunction(namespace: string, name: string, spec: FunctionSpec = {}): FunctionObject {
  return {
    apiVersion: 'serverless.trellis.dev/v1alpha1',
    kind: 'Function',
    metadata: { name, namespace },
    spec: { handler: 'node handler.js', workingDir: HANDLER_DIR, ...spec },
  };
}

export interface HttpResult {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One HTTP request on a fresh connection; network errors reject. */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: http.Agent | false } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
