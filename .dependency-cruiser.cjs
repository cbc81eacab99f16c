/**
 * podid's layers, checked by `npm run lint:deps` (part of `npm test`):
 *
 *   cli -> app -> core <- adapters        render reads core's types
 *
 * core is the domain and owns the ports; adapters implement them; app orchestrates a command
 * over ports and emits events; cli parses flags, reads the environment, builds ports and prints.
 * The sandbox is a separate program served by the CLI; nothing in the product depends on it.
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'A cycle means two modules cannot be read (or loaded lazily) one before the other. ' +
        'The one exception: the sandbox\'s controllers.ts names the type of the cluster core that runs them ' +
        '(import type, erased at build time; swc, which parses here, cannot tell type imports apart).',
      from: { path: '^src/', pathNot: '^src/sandbox/kube/(cluster|controllers)[.]ts$' },
      to: { circular: true },
    },
    {
      name: 'core-is-the-domain',
      severity: 'error',
      comment: 'core/ depends on nothing of podid outside core/: adapters implement its ports, app and cli call it, render reads its types.',
      from: { path: '^src/core/' },
      to: { path: '^src/(adapters|cli|render|app|sandbox)/' },
    },
    {
      name: 'render-reads-core-only',
      severity: 'error',
      comment: 'Renderers are total functions of core data: no I/O, no orchestration, no flags.',
      from: { path: '^src/render/' },
      to: { path: '^src/(adapters|cli|app|sandbox)/' },
    },
    {
      name: 'app-below-cli',
      severity: 'error',
      comment:
        'The application layer takes validated options and ports and returns results: it never reaches up into the CLI ' +
        '(flags, env, terminal), nor sideways into adapters (the CLI builds them) or renderers (the CLI prints).',
      from: { path: '^src/app/' },
      to: { path: '^src/(cli|adapters|render|sandbox)/' },
    },
    {
      name: 'adapters-below-app',
      severity: 'error',
      comment: 'Adapters implement core ports; they do not call the application layer, the CLI or renderers.',
      from: { path: '^src/adapters/' },
      to: { path: '^src/(app|cli|render|sandbox)/' },
    },
    {
      name: 'sandbox-is-separate',
      severity: 'error',
      comment: 'The emulator is its own program: it may share core helpers but never the product\'s adapters, app or CLI.',
      from: { path: '^src/sandbox/' },
      to: { path: '^src/(adapters|app|cli)/' },
    },
    {
      name: 'sandbox-oracle-is-independent',
      severity: 'error',
      comment:
        'The sandbox evaluates trust policies at credential time as the end-to-end oracle for podid\'s trust changes (issue 8); ' +
        'sharing podid\'s own evaluator would let both share a bug.',
      from: { path: '^src/sandbox/' },
      to: { path: '^src/core/policy/' },
    },
    {
      name: 'no-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve would fail at run time.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/.*\\.d\\.ts$' },
    // TypeScript 7 (tsc) has no JavaScript API, so TypeScript is parsed with swc.
    parser: 'swc',
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a layer must not even name another layer's types.
    tsPreCompilationDeps: true,
    // Resolve packages through their `exports` map, as Node does: some (the sandbox's IAM simulator)
    // have no `main` field at all.
    enhancedResolveOptions: { conditionNames: ['import', 'require', 'node', 'default'], exportsFields: ['exports'] },
  },
};
