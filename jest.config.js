/**
 * Jest runs TypeScript through SWC; one PostgreSQL (embedded or real) serves the whole run.
 * Four projects, each runnable alone (`npm run test:unit`, `test:integration`, `test:e2e`, `test:clients`):
 * unit (test/unit and the tests beside the code), integration (services over a real database),
 * e2e (a real gateway over real subgraphs) and clients (the popular GraphQL clients against it).
 */
const swc = [
  '@swc/jest',
  {
    jsc: {
      target: 'es2022',
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
    },
    module: { type: 'commonjs' },
  },
];

/** @param {string} displayName @param {string[]} roots @param {string[]} testMatch */
const project = (displayName, roots, testMatch) => ({
  displayName,
  testEnvironment: 'node',
  roots: roots.map((root) => `<rootDir>/${root}`),
  testMatch,
  transform: { '^.+\\.(t|j)sx?$': swc },
  // Sources import './x.js' (nodenext); jest resolves them to the .ts files.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transformIgnorePatterns: ['/node_modules/(?!(content-disposition|cookie)/)'],
});

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    project('unit', ['test/unit', 'lib', 'subgraphs', 'gateway'], ['**/*.test.ts']),
    project('integration', ['test/integration'], ['**/*.test.ts']),
    project('e2e', ['test/e2e'], ['**/*.test.ts']),
    // The clients frontend teams use (Apollo Client…), unconfigured, against a started system.
    project('clients', ['test/clients'], ['**/*.test.ts']),
  ],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // A suite's beforeAll starts a whole system: on a loaded 2-core machine (both CI passes side by
  // side) that took over 60 s once; a hook that times out leaves a system starting behind it.
  testTimeout: 120000,
  // One worker runs the suites one after another (each starts a whole system: two at once on 2
  // cores starve each other). Each suite leaves ~50 MB of heap behind in the process that ran it
  // (modules, compiled schemas), which ended a whole run at 'JavaScript heap out of memory'; the
  // worker is replaced after a suite once its heap passes this, so a run's memory stays flat.
  maxWorkers: 1,
  workerIdleMemoryLimit: '1500MB',
};
