#!/usr/bin/env node
// Checks that dist/ holds what Grafana loads: every plugin.json valid against
// scripts/plugin-json.schema.json, with its module.js, its logos, its backend
// binaries for the Linux platforms Grafana runs on, the build's placeholders
// replaced, and the app's includes naming every nested plugin. Prints one line
// per plugin and exits 1 with the problems found.
//
//   node scripts/check-dist.mjs [--dist dist] [--src src] [--platform linux_amd64 ...]
//                               [--backend datasource=../gpx_php ...]
//
// --src (default: src, when it exists): every src/**/plugin.json must have been
// built into the same place under dist. --platform (repeatable; default
// linux_amd64 and linux_arm64): the <executable>_<platform> binaries a backend
// plugin must have. --backend DIR=EXECUTABLE (repeatable): dist/DIR/plugin.json
// must be a backend plugin run by that executable (DIR . for dist/plugin.json).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Ajv from 'ajv';
import semver from 'semver';

const here = path.dirname(fileURLToPath(import.meta.url));

export const SCHEMA_FILE = path.join(here, 'plugin-json.schema.json');

/** Where Grafana runs the backend: Linux on amd64 and arm64 (what scripts/test.sh always required). */
export const BACKEND_PLATFORMS = ['linux_amd64', 'linux_arm64'];

/** The placeholders .config/webpack/webpack.config.ts (ReplaceInFileWebpackPlugin) replaces in dist/**\/plugin.json. */
const PLACEHOLDER = /%(VERSION|TODAY|PLUGIN_ID)%/g;

/** Types that Grafana loads a module.js for (renderer and secretsmanager plugins are backend only). */
const FRONTEND_TYPES = new Set(['app', 'datasource', 'panel']);

let validator;
function validate(json) {
  if (!validator) {
    // strictSchema catches typos in the schema; the type and required checks of strict mode would refuse the
    // conditional rules (if/then on properties declared elsewhere), which are meant. unicodeRegExp: false keeps the
    // documented id pattern as written: its `\-` is an error in a Unicode regular expression.
    const ajv = new Ajv({
      allErrors: true,
      verbose: true,
      strictSchema: true,
      strictTypes: false,
      strictRequired: false,
      unicodeRegExp: false,
    });
    validator = ajv.compile(JSON.parse(fs.readFileSync(SCHEMA_FILE, 'utf8')));
  }
  return validator(json) ? [] : validator.errors;
}

/** "info.logos.small" for "/info/logos/small". */
function where(instancePath, property) {
  const parts = instancePath.split('/').filter(Boolean);
  if (property !== undefined) {
    parts.push(property);
  }
  return parts.join('.');
}

/** One ajv error in words; undefined for the "if" errors that only say a "then" failed (its own error follows). */
function schemaMessage(error) {
  const at = where(error.instancePath);
  const subject = at ? `${at} ` : '';
  const value = JSON.stringify(error.data);
  switch (error.keyword) {
    case 'if':
      return undefined;
    case 'required':
      return `missing ${where(error.instancePath, error.params.missingProperty)}${describe(error)}`;
    case 'additionalProperties':
      return `unknown property ${where(error.instancePath, error.params.additionalProperty)}`;
    case 'enum':
      return `${subject}is ${value}: want one of ${error.params.allowedValues.join(', ')}`;
    case 'const':
      return `${subject}is ${value}: want ${JSON.stringify(error.params.allowedValue)}${describe(error)}`;
    case 'pattern':
      return `${subject}${value} does not match ${error.params.pattern}${describe(error)}`;
    case 'type':
      return `${subject}is ${Array.isArray(error.data) ? 'an array' : typeof error.data}: want ${error.params.type}`;
    case 'minLength':
      return `${subject}is empty`;
    case 'not':
      return `${subject}${error.parentSchema.description ?? 'has a property its type does not allow'}`;
    default:
      return `${subject}${error.message}`;
  }
}

function describe(error) {
  return error.parentSchema?.description ? ` (${error.parentSchema.description})` : '';
}

/** Every string in json with the path to it. */
function* strings(json, at = '') {
  if (typeof json === 'string') {
    yield [at, json];
  } else if (json && typeof json === 'object') {
    for (const [key, value] of Object.entries(json)) {
      yield* strings(value, at ? `${at}.${key}` : key);
    }
  }
}

/** plugin.json files under dir, nearest first; node_modules skipped. */
function findPluginJsons(dir) {
  const found = [];
  const walk = (d) => {
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.isFile() && entry.name === 'plugin.json') {
        found.push(path.join(d, entry.name));
      }
    }
    for (const entry of entries) {
      if (entry.isDirectory() && entry.name !== 'node_modules') {
        walk(path.join(d, entry.name));
      }
    }
  };
  walk(dir);
  return found;
}

function nonEmptyFile(file) {
  try {
    const stat = fs.statSync(file);
    return stat.isFile() && stat.size > 0 ? stat : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks the plugin.json at file: schema, placeholders, versions, and the files it names. Returns its problems and
 * what it holds, for the one-line summary.
 */
function checkPlugin(file, dist, platforms) {
  const dir = path.dirname(file);
  const problems = [];
  const notes = [];
  let json;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    return { json: undefined, problems: [`is not valid JSON: ${err.message}`], notes };
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    return { json: undefined, problems: ['is not a JSON object'], notes };
  }

  const leftOver = new Set();
  for (const [at, text] of strings(json)) {
    for (const match of text.matchAll(PLACEHOLDER)) {
      leftOver.add(match[0]);
      problems.push(`${at} still holds ${match[0]}: the build did not replace it`);
    }
  }
  for (const error of validate(json)) {
    const message = schemaMessage(error);
    if (message && !(error.instancePath === '/info/updated' && leftOver.has('%TODAY%'))) {
      problems.push(message);
    }
  }

  const version = json.info?.version;
  if (typeof version === 'string' && !version.includes('%') && !semver.valid(version)) {
    problems.push(`info.version "${version}" is not a SemVer version such as 1.2.3`);
  }
  const grafana = json.dependencies?.grafanaDependency;
  if (typeof grafana === 'string' && !semver.validRange(grafana)) {
    problems.push(`dependencies.grafanaDependency "${grafana}" is not a version range such as >=12.3.0`);
  }

  if (FRONTEND_TYPES.has(json.type)) {
    if (nonEmptyFile(path.join(dir, 'module.js'))) {
      notes.push('module.js');
    } else {
      problems.push(`has no module.js next to it: no src/${path.relative(dist, dir)}/module.ts was built`);
    }
  }

  const logos = json.info?.logos ?? {};
  const images = [
    ...['small', 'large'].map((size) => [`info.logos.${size}`, logos[size]]),
    ...(json.info?.screenshots ?? []).map((shot, i) => [`info.screenshots.${i}.path`, shot?.path]),
  ];
  const imagesBefore = problems.length;
  for (const [at, ref] of images) {
    if (typeof ref === 'string' && ref !== '' && !/^https?:\/\//.test(ref) && !nonEmptyFile(path.join(dir, ref))) {
      problems.push(`${at} names ${ref}, which is not in ${path.relative(path.dirname(dist), dir) || '.'}/`);
    }
  }
  if (problems.length === imagesBefore && logos.small && logos.large) {
    notes.push('logos');
  }

  if (json.backend === true && typeof json.executable === 'string' && json.executable !== '') {
    const base = path.resolve(dir, json.executable);
    if (path.relative(dist, base).startsWith('..')) {
      problems.push(`executable ${json.executable} is outside dist/`);
    } else {
      const missing = [];
      for (const platform of platforms) {
        const stat = nonEmptyFile(`${base}_${platform}`);
        if (!stat) {
          missing.push(`${json.executable}_${platform} is missing`);
        } else if ((stat.mode & 0o111) === 0) {
          missing.push(`${json.executable}_${platform} is not executable`);
        }
      }
      problems.push(...missing.map((m) => `backend: ${m}`));
      if (missing.length === 0) {
        notes.push(`backend ${path.relative(dist, base)}_{${platforms.join(',')}}`);
      }
    }
  }

  for (const [i, include] of (json.includes ?? []).entries()) {
    if (
      include?.type === 'dashboard' &&
      typeof include.path === 'string' &&
      !nonEmptyFile(path.join(dir, include.path))
    ) {
      problems.push(`includes.${i} is the dashboard ${include.path}, which is not in dist`);
    }
  }
  return { json, problems, notes };
}

/**
 * Checks dist (a directory npm run build wrote). Returns one entry per plugin.json found, and the problems that
 * belong to no single plugin.json.
 */
export function checkDist({ dist = 'dist', src, platforms = BACKEND_PLATFORMS, backends = {} } = {}) {
  const shown = (file) => path.join(path.basename(dist), path.relative(dist, file));
  const general = [];
  const files = findPluginJsons(dist);
  const rootFile = path.join(dist, 'plugin.json');
  if (!fs.existsSync(rootFile)) {
    general.push(`${shown(rootFile)} is missing: run npm run build`);
  }
  if (src) {
    for (const srcFile of findPluginJsons(src)) {
      const built = path.join(dist, path.relative(src, srcFile));
      if (!files.includes(built)) {
        general.push(
          `${shown(built)} is missing: ${path.join(path.basename(src), path.relative(src, srcFile))} was not built`
        );
      }
    }
  }

  const plugins = files.map((file) => ({ file, shown: shown(file), ...checkPlugin(file, dist, platforms) }));

  for (const [dir, executable] of Object.entries(backends)) {
    const file = path.join(dist, dir, 'plugin.json');
    const plugin = plugins.find((p) => p.file === file);
    if (!plugin) {
      general.push(`${shown(file)} is missing: it should be the backend plugin run by ${executable}`);
    } else if (plugin.json && (plugin.json.backend !== true || plugin.json.executable !== executable)) {
      plugin.problems.push(
        `should be a backend plugin run by ${executable} ("backend": true, "executable": "${executable}"), ` +
          `not ${JSON.stringify({ backend: plugin.json.backend, executable: plugin.json.executable })}`
      );
    }
  }

  const ids = new Map();
  for (const plugin of plugins) {
    const id = plugin.json?.id;
    if (typeof id === 'string') {
      if (ids.has(id)) {
        plugin.problems.push(`id ${id} is also the id of ${ids.get(id).shown}`);
      } else {
        ids.set(id, plugin);
      }
    }
  }

  // The app's includes list its nested plugins, by type and name, and only those.
  const root = plugins.find((p) => p.file === rootFile);
  if (root?.json?.type === 'app') {
    const includes = root.json.includes ?? [];
    const nested = plugins.filter((p) => p !== root && p.json);
    const listed = [];
    for (const plugin of nested) {
      const { type, name } = plugin.json;
      if (includes.some((inc) => inc?.type === type && inc?.name === name)) {
        listed.push(`${type} "${name}"`);
      } else {
        root.problems.push(
          `includes no ${type} named "${name}" (${plugin.shown}): add {"type": "${type}", "name": "${name}"} to its includes`
        );
      }
    }
    for (const [i, inc] of includes.entries()) {
      if (
        (inc?.type === 'datasource' || inc?.type === 'panel') &&
        !nested.some((p) => p.json.type === inc.type && p.json.name === inc.name)
      ) {
        root.problems.push(
          `includes.${i} is the ${inc.type} "${inc.name}", but no nested plugin.json in dist has that type and name`
        );
      }
    }
    if (listed.length > 0) {
      root.notes.push(`includes ${listed.join(', ')}`);
    }
  }

  for (const plugin of plugins) {
    const { json } = plugin;
    const what = json
      ? `${json.id ?? '(no id)'} ${json.info?.version ?? '(no version)'} ${json.type ?? '(no type)'}`
      : '';
    plugin.ok = plugin.problems.length === 0;
    plugin.line = `${plugin.ok ? 'ok  ' : 'FAIL'} ${plugin.shown}: ${what}${plugin.notes.length ? `; ${plugin.notes.join('; ')}` : ''}`;
  }
  const problems = [...general, ...plugins.flatMap((p) => p.problems.map((m) => `${p.shown}: ${m}`))];
  return { plugins, general, problems, ok: problems.length === 0 };
}

function parseArgs(argv) {
  const options = { dist: 'dist', src: fs.existsSync('src') ? 'src' : undefined, platforms: [], backends: {} };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--dist':
        options.dist = value;
        i++;
        break;
      case '--src':
        options.src = value === '' ? undefined : value;
        i++;
        break;
      case '--platform':
        options.platforms.push(value);
        i++;
        break;
      case '--backend': {
        const [dir, executable] = (value ?? '').split('=');
        if (!dir || !executable) {
          throw new Error(`--backend ${value}: want DIR=EXECUTABLE, e.g. datasource=../gpx_php`);
        }
        options.backends[dir] = executable;
        i++;
        break;
      }
      default:
        throw new Error(
          `unknown argument ${argv[i]}; usage: check-dist.mjs [--dist dist] [--src src] [--platform P ...] [--backend DIR=EXECUTABLE ...]`
        );
    }
  }
  if (options.platforms.length === 0) {
    options.platforms = BACKEND_PLATFORMS;
  }
  return options;
}

function main() {
  const result = checkDist(parseArgs(process.argv.slice(2)));
  for (const plugin of result.plugins) {
    console.log(plugin.line);
    for (const problem of plugin.problems) {
      console.log(`       ${problem}`);
    }
  }
  for (const problem of result.general) {
    console.log(`FAIL ${problem}`);
  }
  const count = result.plugins.length;
  console.log(
    result.ok
      ? `dist: ${count} plugin${count === 1 ? '' : 's'}, all loadable`
      : `dist: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'} in ${count} plugin${count === 1 ? '' : 's'}`
  );
  process.exitCode = result.ok ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main();
}
