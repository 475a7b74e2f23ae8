import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import { packageRoot } from '../../controlplane/index.js';

interface Instruction {
  op: string;
  args: string;
}

/** End of life of the Node LTS lines (https://github.com/nodejs/Release). */
const NODE_LTS_END: Record<number, string> = { 20: '2026-04-30', 22: '2027-04-30', 24: '2028-04-30' };
const ENGINES = (
  JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { engines: { node: string } }
).engines.node;

/** Images cannot be built on these machines; this keeps the Dockerfile honest instead. */
function parseDockerfile(text: string): { stages: { name?: string; from: string; instructions: Instruction[] }[] } {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: { name?: string; from: string; instructions: Instruction[] }[] = [];
  for (const line of lines) {
    const [op, ...rest] = line.split(/\s+/);
    const args = rest.join(' ');
    if (op!.toUpperCase() === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      stages.push({ from: m![1]!, ...(m![2] ? { name: m![2] } : {}), instructions: [] });
    } else stages.at(-1)!.instructions.push({ op: op!.toUpperCase(), args });
  }
  return { stages };
}

describe('Dockerfile', () => {
  const root = packageRoot();
  const docker = parseDockerfile(readFileSync(path.join(root, 'Dockerfile'), 'utf8'));
  const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const copies = docker.stages.flatMap((s) =>
    s.instructions
      .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
      .map((i) => i.args.split(/\s+/).slice(0, -1))
      .flat(),
  );

  it('is multi-stage, on a supported Node LTS line the project admits, and runs as a non-root user', () => {
    assert.deepEqual(
      docker.stages.map((s) => s.name),
      ['build', 'cue-evaluator', undefined],
    );
    const majors = [docker.stages[0]!, docker.stages[2]!].map((s) => Number(/^node:(\d+)[.-]/.exec(s.from)?.[1]));
    assert.equal(new Set(majors).size, 1, 'build and run on the same Node line');
    const end = NODE_LTS_END[majors[0]!];
    assert.ok(end, `node:${majors[0]} is not a Node LTS line (${Object.keys(NODE_LTS_END).join(', ')})`);
    assert.ok(new Date(end) > new Date(), `node:${majors[0]} is past its end of life (${end})`);
    assert.ok(
      semver.satisfies(`${majors[0]}.0.0`, `${ENGINES.replace(/^>=\s*(\d+)\.\d+/, '>=$1')}`),
      `package.json engines (${ENGINES}) admits Node ${majors[0]}`,
    );
    const final = docker.stages.at(-1)!;
    const user = final.instructions.filter((i) => i.op === 'USER').at(-1)?.args ?? 'root';
    assert.doesNotMatch(user, /^(root|0)(:|$)/);
    assert.ok(
      final.instructions.some((i) => i.op === 'RUN' && /apt-get install[^&]*\bgit\b/.test(i.args)),
      'git is installed for GitSync',
    );
    assert.ok(
      docker.stages[0]!.instructions.some((i) => i.op === 'RUN' && /npm prune --omit=dev/.test(i.args)),
      'only production dependencies are shipped',
    );
  });

  it('copies only paths that exist in the repository and are not excluded by .dockerignore', () => {
    assert.ok(copies.length > 5);
    for (const source of copies) {
      assert.ok(existsSync(path.join(root, source)), `COPY ${source}: no such path in the repository`);
      assert.ok(!ignored.includes(source.replace(/\/$/, '')), `COPY ${source}: excluded by .dockerignore`);
    }
  });

  it('copies every source folder the build compiles, so the image has all of the CLI', () => {
    const build = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    const present = build.include.filter((dir) => existsSync(path.join(root, dir)));
    for (const dir of present) assert.ok(copies.includes(dir), `Dockerfile does not COPY ${dir}/ into the build stage`);
    for (const file of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'])
      assert.ok(copies.includes(file), `Dockerfile does not COPY ${file}`);
  });

  it('builds the native CUE evaluator in a stage of its own, with a Go the module accepts, and ships only its binary', () => {
    const stage = docker.stages[1]!;
    const goMod = readFileSync(path.join(root, 'cue', 'native', 'go', 'go.mod'), 'utf8');
    const [imageMajor, imageMinor] = /^golang:(\d+)\.(\d+)/.exec(stage.from)!.slice(1).map(Number);
    const [needMajor, needMinor] = /^go (\d+)\.(\d+)/m.exec(goMod)!.slice(1).map(Number);
    assert.ok(
      imageMajor! > needMajor! || (imageMajor === needMajor && imageMinor! >= needMinor!),
      `${stage.from} is older than go.mod's Go`,
    );
    assert.ok(stage.instructions.some((i) => i.op === 'COPY' && i.args === 'cue/native/go ./'));
    assert.ok(
      stage.instructions.some(
        (i) => i.op === 'RUN' && /CGO_ENABLED=0 .*go build .*-o \/out\/trellis-cue \.$/.test(i.args),
      ),
    );
    const final = docker.stages.at(-1)!;
    assert.deepEqual(
      final.instructions.filter((i) => i.args.startsWith('--from=cue-evaluator')).map((i) => i.args),
      ['--from=cue-evaluator /out/trellis-cue /usr/local/bin/trellis-cue'],
    );
    assert.ok(
      final.instructions.some((i) => i.op === 'ENV' && i.args === 'TRELLIS_CUE_BIN=/usr/local/bin/trellis-cue'),
      'the engine finds it without Go',
    );
  });

  it('takes from the build stage only what that stage produces', () => {
    const fromBuild = docker.stages
      .at(-1)!
      .instructions.filter((i) => i.op === 'COPY' && i.args.startsWith('--from=build'))
      .map((i) => i.args.split(/\s+/)[1]);
    const outDir = (
      JSON.parse(readFileSync(path.join(root, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string } }
    ).compilerOptions.outDir;
    // dist/ (tsc) and dashboard/assets/ (the dashboard's browser bundle, scripts/build-dashboard.ts): `npm run build`.
    assert.deepEqual(
      fromBuild.sort(),
      ['/src/dashboard/assets', '/src/dist', '/src/node_modules', '/src/package.json'].sort(),
    );
    assert.match(readFileSync(path.join(root, 'scripts', 'build-dashboard.ts'), 'utf8'), /'dashboard', 'assets'/);
    assert.equal(outDir, 'dist');
    const entry = docker.stages.at(-1)!.instructions.find((i) => i.op === 'ENTRYPOINT')!.args;
    assert.match(entry, /\/app\/bin\/trellis\.js/);
    assert.ok(existsSync(path.join(root, 'bin', 'trellis.js')));
  });
});
