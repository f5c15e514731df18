#!/usr/bin/env node
/**
 * `node scripts/launch.cjs <entry.ts> [args…]`: runs a TypeScript entry point (npm start, the
 * services, the gateway CLI, the seed) from an esbuild bundle cached in `.build/`, without tsx.
 * Loading the sources through tsx took most of a later `npm start` (docs/decisions/0015).
 *
 * The bundle holds the project's sources and the packages they require (but EXTERNAL_PACKAGES),
 * so that a start reads one file instead of ~2,300 modules one by one; `COMMERCE_BUNDLE_PACKAGES=off`
 * leaves every package in node_modules as before (a bundle of its own). It is rebuilt when any
 * source it was built from, package.json, tsconfig.json, this file or the installed packages
 * (node_modules/.package-lock.json) is newer than it, or when it is missing; a build takes a second
 * or two. If the build fails, the entry runs through tsx as before. `COMMERCE_LAUNCH=tsx` forces tsx.
 *
 * Each module keeps its own `__dirname` (the subgraphs read their schema.graphql beside their
 * sources, packages their own files): the bundle gives every such module a local `__dirname` (and,
 * in packages, `__filename`) naming its original place.
 */
'use strict';
const { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, resolve, sep } = require('node:path');
const { spawn } = require('node:child_process');

const root = resolve(__dirname, '..');
const buildDir = join(root, '.build');

/** The bundle of an entry: `.build/scripts--start-all.cjs` for `scripts/start-all.ts`. */
function bundlePath(entry) {
  // COMMERCE_BUNDLE_PACKAGES=off (packages required from node_modules, as before) has its own bundle.
  const mode = process.env.COMMERCE_BUNDLE_PACKAGES === 'off' ? '.own-sources' : '';
  return join(buildDir, `${relative(root, entry).split(sep).join('--').replace(/\.ts$/, '')}${mode}.cjs`);
}

/** True when the bundle exists and nothing it was built from changed since. */
function fresh(bundle) {
  const inputs = `${bundle}.inputs.json`;
  if (!existsSync(bundle) || !existsSync(inputs)) return false;
  const builtAt = statSync(bundle).mtimeMs;
  let files;
  try {
    files = JSON.parse(readFileSync(inputs, 'utf8'));
  } catch {
    return false;
  }
  for (const file of [...files, 'package.json', 'tsconfig.json', 'scripts/launch.cjs', 'node_modules/.package-lock.json']) {
    try {
      if (statSync(join(root, file)).mtimeMs > builtAt) return false;
    } catch {
      return false; // a source was removed or renamed
    }
  }
  return true;
}

/**
 * Packages left out of the bundle, required from node_modules as before: those the launcher loads
 * lazily (LAZY_PACKAGES: a bundled one could not be), esbuild and tsx (esbuild finds its binary
 * package at run time; the plug-in loader's tsx uses it), PGlite (its WebAssembly and data files;
 * its own thread loads it anyway), `graphql-ws` (the board serves its UMD file by
 * `require.resolve`) and GraphiQL's renderer (9 MB, loaded on the first GraphiQL page).
 */
const EXTERNAL_PACKAGES = [
  'esbuild',
  'tsx',
  '@electric-sql/*',
  'graphql-ws',
  '@graphql-yoga/render-graphiql',
];

/**
 * Node 20 loses the dynamic-import callback of a script compiled from a V8 code cache, so a module
 * containing `import(` was compiled without the cache. The bundle's few (Node built-ins the
 * packages load on demand, the plug-in loader's absolute path) call the launcher's `import` instead:
 * `__dyn_(` is as long as `import(`, so columns and the source map stay right.
 */
const DYNAMIC_IMPORT = /(?<![\w$.'"`])import\(/;
function dynamicImports(text) {
  return text.replace(new RegExp(DYNAMIC_IMPORT.source, 'g'), '__dyn_(');
}

/**
 * The bundle in ASCII only. esbuild escapes non-ASCII characters in strings and identifiers, but
 * keeps the comments it carries over (and the licences it gathers at the end), regular-expression
 * literals (the catalog's `À-Ö`) and the raw text of tagged templates as they are; one `’` or `§`
 * makes V8 hold the whole source of the bundle, which it keeps for the life of the process, as a
 * two-byte string: twice the file's size (16 MB instead of 8 MB for the gateway's, 30 MB instead
 * of 15 MB for npm start's). A `\uXXXX` escape means the same character in a comment, a string, a
 * regular expression (with or without the `u` flag; a surrogate pair is one code point under `u`)
 * and in a pattern given to `new RegExp`; an identity escape (`\é`) becomes the plain escape.
 * Only a tagged template that reads its raw text other than as a pattern (`String.raw` printed as
 * it is) would see the difference.
 */
function asciiOnly(text) {
  return text.replace(/(\\*)([^\x00-\x7f])/g, (_, slashes, char) =>
    `${slashes.length % 2 === 1 ? slashes.slice(1) : slashes}\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Builds the bundle of an entry; written beside and renamed, so a concurrent launch never reads half a file. */
function build(entry, bundle) {
  const esbuild = require('esbuild');
  const bundlePackages = process.env.COMMERCE_BUNDLE_PACKAGES !== 'off';
  // Each module keeps its own folder: sources (schema.graphql beside a subgraph) and packages alike
  // (pino's worker, mercurius's static files, app-root-path) read files next to themselves.
  const dirnamePlugin = {
    name: 'own-dirname',
    setup(plugin) {
      plugin.onLoad({ filter: bundlePackages ? /\.(ts|js|cjs)$/ : /\.ts$/ }, (args) => {
        const inPackage = args.path.includes(`${sep}node_modules${sep}`);
        if (inPackage && args.path.endsWith('.ts')) return undefined;
        const source = readFileSync(args.path, 'utf8');
        const loader = args.path.endsWith('.ts') ? 'ts' : 'js';
        if (!/\b__(dirname|filename)\b/.test(source) || /\b(const|let|var|function)\s+__(dirname|filename)\b/.test(source)) return { contents: source, loader };
        const file = JSON.stringify(relative(root, args.path).split(sep).join('/'));
        const folder = JSON.stringify(relative(root, dirname(args.path)).split(sep).join('/'));
        // Prepended on the same line as the first one, so that line numbers stay those of the source.
        const own = inPackage
          ? `var __dirname = require('node:path').join(__launchRoot, ${folder}), __filename = require('node:path').join(__launchRoot, ${file}); `
          : `const __dirname = require('node:path').join(__launchRoot, ${folder}); `;
        return { contents: `${own}${source}`, loader };
      });
    },
  };
  return esbuild
    .build({
      entryPoints: [entry],
      outfile: bundle,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: `node${process.versions.node.split('.')[0]}`,
      ...(bundlePackages ? { external: [...EXTERNAL_PACKAGES, ...Object.keys(LAZY_PACKAGES)] } : { packages: 'external' }),
      sourcemap: 'linked',
      sourcesContent: false,
      tsconfig: join(root, 'tsconfig.json'),
      // `__dyn_` stands for the bundle's `import(` (see dynamicImports below).
      banner: { js: `const __launchRoot = require('node:path').join(__dirname, '..'); const __dyn_ = globalThis.__launchImport ?? ((id) => Promise.resolve().then(() => require(id)));` },
      metafile: true,
      write: false,
      logLevel: 'silent',
      plugins: [dirnamePlugin],
    })
    .then((out) => {
      mkdirSync(buildDir, { recursive: true });
      // Packages change only with an install, which rewrites node_modules/.package-lock.json (see fresh).
      const inputs = Object.keys(out.metafile.inputs)
        .map((file) => relative(root, resolve(root, file)).split(sep).join('/'))
        .filter((file) => !file.startsWith('node_modules/'));
      const files = [
        ...out.outputFiles.map((file) => [file.path, file.path === bundle ? asciiOnly(dynamicImports(file.text)) : file.contents]),
        [`${bundle}.inputs.json`, JSON.stringify(inputs)],
      ];
      // The bundle itself last: its time is what freshness is judged by.
      files.sort(([a], [b]) => (a === bundle) - (b === bundle));
      for (const [path, contents] of files) {
        writeFileSync(`${path}.${process.pid}.tmp`, contents);
        renameSync(`${path}.${process.pid}.tmp`, path);
      }
    });
}

/**
 * Builds the bundle of an entry in a process of its own (`launch.cjs --build <entry>`), so that
 * the process that then runs the bundle never holds what a build leaves behind: esbuild's output
 * and source map as buffers, the bundle as text (two-byte while it has non-ASCII characters, and
 * again as escaped) and esbuild's service. That was some 60 MB of large objects and 40 MB of
 * buffers, freed only by a mark-compact, in a gateway started on a stale bundle: its RSS under
 * load was ~150 MB above a start on a fresh one (docs/decisions/0054). Costs a Node start (~50 ms)
 * when a build is needed; nothing otherwise.
 */
function buildApart(entry) {
  const child = require('node:child_process').spawnSync(process.execPath, [__filename, '--build', entry], { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (child.status === 0) return;
  throw new Error(child.stderr?.trim() || (child.error ? child.error.message : `the build exited with ${child.status ?? child.signal}`));
}

/**
 * A V8 code cache for the modules this process compiles (the bundle and node_modules), kept in
 * `<bundle>.v8cache`: compiling some 600 modules anew is a good part of every start. Node 22 has
 * this built in (module.enableCompileCache); Node 20 does not. Anything unusual (ES modules, a
 * source V8 cannot compile as a function body) goes the ordinary way.
 */
function installCompileCache(file) {
  const Module = require('node:module');
  const vm = require('node:vm');
  const v8 = require('node:v8');
  let cache = new Map();
  try {
    cache = v8.deserialize(readFileSync(file));
    // Each module's data copied out: the deserialised ones are views of the whole file's buffer,
    // which would stay resident for as long as any one of them does.
    for (const entry of cache.values()) entry.data = Buffer.from(entry.data);
  } catch {
    // none yet, or unreadable: start afresh
  }
  /** Modules whose cached data V8 took: their data is let go (the gateway's is 5 MB) and read again from the file if it is rewritten. */
  const taken = new Map();
  const compiled = new Map();
  /** The modules this process compiled: a cache rewritten keeps only theirs (it grew to every module any run ever loaded). */
  const used = new Set();
  let changed = false;
  const original = Module.prototype._compile;
  const importModuleDynamically = vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (!importModuleDynamically) return;
  Module.prototype._compile = function compileWithCache(content, filename, format) {
    // Node 20 loses a cached script's dynamic-import callback: modules that import() compile the ordinary way.
    if (format === 'module' || content.startsWith('#!') || DYNAMIC_IMPORT.test(content)) return original.call(this, content, filename, format);
    const stamp = `${content.length}:${statSync(filename).mtimeMs}`;
    const cached = cache.get(filename);
    used.add(filename);
    let script;
    try {
      script = new vm.Script(Module.wrap(content), {
        filename,
        cachedData: cached && cached.stamp === stamp ? cached.data : undefined,
        importModuleDynamically,
      });
    } catch {
      return original.call(this, content, filename, format); // e.g. ES module syntax in a .js file
    }
    if (!cached || cached.stamp !== stamp || script.cachedDataRejected) {
      compiled.set(filename, { script, stamp });
      changed = true;
    } else {
      cache.delete(filename);
      taken.set(filename, stamp);
    }
    const mod = this;
    const require = (id) => mod.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.resolve.paths = (request) => Module._resolveLookupPaths(request, mod);
    require.main = process.mainModule;
    require.extensions = Module._extensions;
    require.cache = Module._cache;
    return script.runInThisContext({ displayErrors: true }).call(mod.exports, mod.exports, require, mod, filename, dirname(filename));
  };
  const save = () => {
    // Rewritten when this process compiled something new, or when most of the cache went unused.
    if (!changed && cache.size + taken.size <= used.size * 1.5) return;
    changed = false;
    if (taken.size > 0) {
      let onDisk = new Map();
      try {
        onDisk = v8.deserialize(readFileSync(file));
      } catch {
        // gone or unreadable: those modules compile anew next time
      }
      for (const [filename, stamp] of taken) {
        const entry = onDisk.get(filename);
        if (entry && entry.stamp === stamp && !cache.has(filename)) cache.set(filename, entry);
      }
      taken.clear();
    }
    for (const [filename, { script, stamp }] of compiled) cache.set(filename, { stamp, data: script.createCachedData() });
    compiled.clear();
    for (const filename of cache.keys()) if (!used.has(filename)) cache.delete(filename);
    try {
      writeFileSync(`${file}.${process.pid}.tmp`, v8.serialize(cache));
      renameSync(`${file}.${process.pid}.tmp`, file);
    } catch {
      // a cache only
    }
    // Written: what this process holds of it is let go again.
    for (const [filename, { stamp }] of cache) taken.set(filename, stamp);
    cache.clear();
  };
  // Written once the process has run a while (the functions it compiled lazily are then in it), or at exit.
  setTimeout(save, 15_000).unref();
  process.once('exit', save);
}

/**
 * A cache of module resolution kept in `<bundle>.resolve.json`: where each `require(request)` from
 * a folder led, and the module format (CommonJS or not) of each `.js` file loaded. Resolving the
 * ~2,300 modules a later start loads from node_modules (stats of candidate paths, the package.json
 * of every folder on the way, `exports` maps) was about a fifth of that start's CPU, and the answers
 * only change when node_modules does: the cache is dropped when `node_modules/.package-lock.json`
 * (rewritten by every npm install), `package.json`, this file or `NODE_PATH` changed. A cached file
 * that has gone is resolved the ordinary way. `COMMERCE_RESOLVE_CACHE=off` turns it off.
 */
function installResolveCache(file) {
  const Module = require('node:module');
  const stamp = ['node_modules/.package-lock.json', 'package-lock.json', 'package.json', 'scripts/launch.cjs']
    .map((name) => {
      try {
        return statSync(join(root, name)).mtimeMs;
      } catch {
        return 0;
      }
    })
    .concat(process.env.NODE_PATH ?? '')
    .join(':');
  let resolved = new Map();
  let formats = new Map();
  try {
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    if (saved.stamp === stamp) {
      resolved = new Map(Object.entries(saved.resolved));
      formats = new Map(Object.entries(saved.formats));
    }
  } catch {
    // none yet, or unreadable: start afresh
  }
  const usedResolved = new Map();
  const usedFormats = new Map();
  let changed = false;
  const resolveFilename = Module._resolveFilename;
  Module._resolveFilename = function resolveCached(request, parent, isMain, options) {
    // Only the plain case: a require from a module's folder, no `paths` option, not a built-in.
    if (options !== undefined || isMain || !parent?.path || request.startsWith('node:') || Module.isBuiltin(request)) {
      return resolveFilename.apply(this, arguments);
    }
    const key = `${parent.path}\0${request}`;
    let filename = resolved.get(key);
    if (filename === undefined || !existsSync(filename)) {
      filename = resolveFilename.apply(this, arguments);
      changed ||= resolved.get(key) !== filename;
      resolved.set(key, filename);
    }
    usedResolved.set(key, filename);
    return filename;
  };
  // A `.js` file's format comes from the nearest package.json's "type": read once, then remembered.
  const loadJs = Module._extensions['.js'];
  Module._extensions['.js'] = function loadJsCached(module, filename) {
    const format = formats.get(filename);
    if (format === 'commonjs' || format === 'default') {
      usedFormats.set(filename, format);
      // As Node's own loader does: the source as read, the format its package.json gave.
      return module._compile(readFileSync(filename, 'utf8'), filename, format === 'commonjs' ? 'commonjs' : undefined);
    }
    const compile = module._compile;
    module._compile = function compileAndRemember(source, name, loadedFormat) {
      module._compile = compile;
      if (name === filename && (loadedFormat === 'commonjs' || loadedFormat === undefined)) {
        const remembered = loadedFormat ?? 'default';
        changed ||= formats.get(filename) !== remembered;
        formats.set(filename, remembered);
        usedFormats.set(filename, remembered);
      }
      return compile.apply(this, arguments);
    };
    try {
      return loadJs.call(this, module, filename);
    } finally {
      module._compile = compile;
    }
  };
  const save = () => {
    // Rewritten when something new was resolved, or when most of it went unused (as the code cache).
    if (!changed && resolved.size <= usedResolved.size * 1.5) return;
    changed = false;
    try {
      const saved = { stamp, resolved: Object.fromEntries(usedResolved), formats: Object.fromEntries(usedFormats) };
      writeFileSync(`${file}.${process.pid}.tmp`, JSON.stringify(saved));
      renameSync(`${file}.${process.pid}.tmp`, file);
    } catch {
      // a cache only
    }
  };
  setTimeout(save, 15_000).unref();
  process.once('exit', save);
}

/**
 * Packages required at the top of modules every start loads but used only by code a start does not
 * run: `redis` (only with REDIS_URL), and the metrics SDK, cloud detectors and OTLP metric exporter
 * that `@apollo/gateway` requires for its usage telemetry (off, see below). Together some 900 of
 * the ~3,500 modules a later start loaded. Each is loaded on its first use instead: the require
 * returns a stand-in that loads the package when a property of it is read. The value says what
 * `__esModule` answers before then (TypeScript's `__importDefault` asks it at require time).
 */
const LAZY_PACKAGES = {
  redis: undefined,
  '@opentelemetry/sdk-metrics': true,
  '@opentelemetry/exporter-metrics-otlp-http': true,
  '@opentelemetry/resource-detector-alibaba-cloud': true,
  '@opentelemetry/resource-detector-aws': true,
  '@opentelemetry/resource-detector-azure': true,
  '@opentelemetry/resource-detector-gcp': true,
};

function installLazyPackages() {
  const Module = require('node:module');
  const load = Module._load;
  Module._load = function loadLazily(request, parent, isMain) {
    if (!Object.hasOwn(LAZY_PACKAGES, request)) return load.apply(this, arguments);
    Module._resolveFilename(request, parent, isMain); // a missing package still fails here, not at its first use
    let real;
    const target = () => (real ??= load.call(Module, request, parent, isMain));
    return new Proxy(function lazyPackage() {}, {
      get: (_, key) => (key === '__esModule' && real === undefined ? LAZY_PACKAGES[request] : Reflect.get(target(), key)),
      has: (_, key) => Reflect.has(target(), key),
      ownKeys: () => [...new Set([...Reflect.ownKeys(target()), 'prototype'])],
      // The stand-in's own `prototype` cannot be reported otherwise than it is (a proxy's invariant).
      getOwnPropertyDescriptor: (stub, key) => {
        const descriptor = key === 'prototype' ? undefined : Reflect.getOwnPropertyDescriptor(target(), key);
        return descriptor ? { ...descriptor, configurable: true } : Reflect.getOwnPropertyDescriptor(stub, key);
      },
      apply: (_, self, args) => Reflect.apply(target(), self, args),
      construct: (_, args) => Reflect.construct(target(), args),
    });
  };
}

/** The entry through tsx, in a child process that gets the signals this one gets. */
function viaTsx(entry, args) {
  const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const child = spawn(process.execPath, [tsx, entry, ...args], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

/**
 * `npm install`'s `prepare`: the bundle of `npm start`, the PGlite template and the schema template
 * (scripts/schema-template.ts), so that the first start does none of them. Never fails the install: whatever is not made here is made when needed.
 */
async function prepare() {
  try {
    const entry = join(root, 'scripts', 'start-all.ts');
    if (!fresh(bundlePath(entry))) await build(entry, bundlePath(entry));
    const early = join(root, 'scripts', 'start-all.early.ts');
    if (!fresh(bundlePath(early))) await build(early, bundlePath(early));
    const template = join(root, 'lib', 'db', 'pglite-template.ts');
    if (!fresh(bundlePath(template))) await build(template, bundlePath(template));
    const child = require('node:child_process').spawnSync(process.execPath, [__filename, template], { stdio: 'inherit' });
    if (child.status !== 0) console.error('prepare: no PGlite template (the first npm start makes it)');
    // The template with every service's schema migrated: a first start copies it instead of migrating.
    const schema = join(root, 'scripts', 'schema-template.ts');
    if (child.status === 0 && require('node:child_process').spawnSync(process.execPath, [__filename, schema], { stdio: 'inherit' }).status !== 0) {
      console.error('prepare: no PGlite schema template (a first npm start migrates each schema)');
    }
  } catch (error) {
    console.error(`prepare: ${error?.errors?.[0]?.text ?? (error instanceof Error ? error.message : String(error))} (npm start builds what it needs)`);
  }
}

/**
 * `<entry>.early.ts` beside an entry, when there is one: bundled on its own (a few kB) and run
 * before the entry's bundle, whose loading takes ~0.5 s, for work that can begin at once (npm
 * start: PGlite opening its folder on its own thread). The entry finds what it began. Whatever
 * goes wrong here is left to the entry, which does the work itself.
 */
async function runEarly(entry) {
  const early = entry.replace(/\.ts$/, '.early.ts');
  if (early === entry || !existsSync(early)) return;
  try {
    const bundle = bundlePath(early);
    if (!fresh(bundle)) await build(early, bundle);
    require(bundle);
  } catch {
    // the entry starts it itself
  }
}

async function main() {
  const [target, ...args] = process.argv.slice(2);
  // @apollo/gateway reports usage telemetry to Apollo's servers from every gateway it builds unless
  // told not to, probing cloud metadata endpoints first: this project's gateway sends nothing
  // anywhere it was not configured to (set APOLLO_TELEMETRY_DISABLED=false to let it).
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';
  if (target === '--prepare') return prepare();
  if (target === '--build') {
    // buildApart's child: the message of a failed build on stderr, for the launching process to print.
    const entry = resolve(root, args[0]);
    return build(entry, bundlePath(entry)).catch((error) => {
      process.stderr.write(error?.errors?.[0]?.text ?? (error instanceof Error ? error.message : String(error)));
      process.exitCode = 1;
    });
  }
  if (!target) {
    console.error('usage: node scripts/launch.cjs <entry.ts> [args…]');
    process.exit(2);
  }
  const entry = resolve(root, target);
  if (process.env.COMMERCE_LAUNCH === 'tsx') return viaTsx(entry, args);
  const bundle = bundlePath(entry);
  if (!fresh(bundle)) {
    try {
      buildApart(entry);
    } catch (error) {
      console.error(`launch: could not bundle ${relative(root, entry)} (${error instanceof Error ? error.message : String(error)}); running it through tsx`);
      return viaTsx(entry, args);
    }
  }
  await runEarly(entry);
  // The entry sees the arguments as it would under tsx: argv[1] its own path.
  process.argv = [process.argv[0], entry, ...args];
  if (process.env.COMMERCE_LAZY_PACKAGES !== 'off') installLazyPackages();
  if (process.env.COMMERCE_COMPILE_CACHE !== 'off') installCompileCache(`${bundle}.v8cache`);
  if (process.env.COMMERCE_RESOLVE_CACHE !== 'off') installResolveCache(`${bundle}.resolve.json`);
  // The bundle's `import(` (see dynamicImports): resolved from here, as deep in the tree as `.build/`.
  globalThis.__launchImport = (id) => import(id);
  require(bundle);
}

main();
