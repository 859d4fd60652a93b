// A synthetic PHP CPU profile as the Tusk backend returns it (pkg/frames/flamegraph.go): a nested-set
// frame, rows depth-first, fields level, value, self (ns), label, file. Deterministic for a seed.
//
// Shape: "total" → "{main}" → a framework's call chains, 20–60 frames deep, branching mostly in the
// lower levels, which is how stacks of routers, middleware pipelines, containers and ORMs look.
// Functions repeat across the tree (a few thousand distinct ones, Zipf-like), as in real profiles.

const VENDORS = [
  'Illuminate',
  'Symfony',
  'Doctrine',
  'Monolog',
  'GuzzleHttp',
  'League',
  'Psr',
  'Laravel',
  'Twig',
  'App',
];
const PACKAGES = [
  'Http',
  'Routing',
  'Database',
  'Cache',
  'Console',
  'Events',
  'Queue',
  'View',
  'Support',
  'Container',
  'Pipeline',
  'ORM',
  'DBAL',
  'Validation',
  'Session',
  'Auth',
  'Filesystem',
  'Serializer',
  'Mailer',
  'Log',
];
const CLASSES = [
  'Kernel',
  'Router',
  'Pipeline',
  'Connection',
  'QueryBuilder',
  'Builder',
  'Dispatcher',
  'Manager',
  'Request',
  'Response',
  'Controller',
  'Handler',
  'Middleware',
  'Repository',
  'EntityManager',
  'UnitOfWork',
  'Hydrator',
  'Compiler',
  'Factory',
  'Resolver',
  'Collection',
  'Model',
  'Statement',
  'Loader',
  'Environment',
  'Normalizer',
];
const METHODS = [
  'handle',
  'dispatch',
  'run',
  'execute',
  '__invoke',
  'resolve',
  'make',
  'build',
  'get',
  'find',
  'query',
  'select',
  'hydrate',
  'compile',
  'render',
  'send',
  'process',
  'then',
  'boot',
  'register',
  'call',
  'fetchAll',
  'load',
  'map',
];
const BUILTINS = ['PDOStatement::execute', 'preg_match', 'array_map', 'json_encode', 'str_replace', 'hash', 'usort'];

/** mulberry32: a small seeded PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function functionPool(rand, size) {
  const pick = (list) => list[Math.floor(rand() * list.length)];
  const pool = [];
  const seen = new Set();
  while (pool.length < size) {
    if (rand() < 0.04) {
      const label = pick(BUILTINS);
      pool.push({ label, file: '' });
      continue;
    }
    const vendor = pick(VENDORS);
    const pkg = pick(PACKAGES);
    const cls = pick(CLASSES);
    const label = `${vendor}\\${pkg}\\${cls}::${pick(METHODS)}`;
    if (seen.has(label)) {
      continue;
    }
    seen.add(label);
    const dir = vendor === 'App' ? 'app' : `vendor/${vendor.toLowerCase()}/${pkg.toLowerCase()}`;
    pool.push({ label, file: `/var/www/shop/${dir}/${pkg}/${cls}.php` });
  }
  return pool;
}

/**
 * Generates a profile of exactly `nodes` rows. Returns DataFrameJSON (schema + data), the shape
 * window.__tuskRenderFlame and the datasource's /api/ds/query answer carry.
 *
 * Built as a profiler builds one: stacks (root to leaf, 20–60 frames) merged into a call tree, where
 * a frame under the same parent with the same function is the same node. Each stack shares a prefix
 * with the one before (usually all but the last few frames, sometimes only the first levels: another
 * route or controller), the first levels come from a few bootstrap functions so the top stays narrow,
 * and each leaf gets a sample count.
 */
export function generateProfile(nodes, seed = 1) {
  const rand = prng(seed);
  const pool = functionPool(rand, Math.min(4000, Math.max(50, Math.round(nodes / 12))));
  // Zipf-like: low indexes (framework plumbing) much more often than high ones.
  const fn = (depth) =>
    depth < 8
      ? pool[depth * 3 + Math.floor(rand() * (depth < 3 ? 1 : 3))]
      : pool[Math.floor(pool.length * Math.pow(rand(), 2.2))];
  // The call tree: node 0 is "total", node 1 "{main}"; children keyed by function label.
  const tree = [
    { level: 0, label: 'total', file: '', self: 0, children: new Map() },
    { level: 1, label: '{main}', file: '/var/www/shop/public/index.php', self: 0, children: new Map() },
  ];
  tree[0].children.set('{main}', 1);
  const period = 10_101_010; // ns: one sample at 99 Hz
  let stack = [0, 1];
  while (tree.length < nodes) {
    const depth = stack.length - 1;
    const keep = rand() < 0.1 ? 2 + Math.floor(rand() * 12) : depth - 1 - Math.floor(rand() * 8);
    stack = stack.slice(0, Math.max(2, Math.min(keep, depth)));
    const target = 20 + Math.floor(rand() * 41);
    while (stack.length - 1 < target && tree.length < nodes) {
      const parent = tree[stack[stack.length - 1]];
      const f = fn(stack.length);
      let child = parent.children.get(f.label);
      if (child === undefined) {
        child = tree.length;
        tree.push({ level: stack.length, label: f.label, file: f.file, self: 0, children: new Map() });
        parent.children.set(f.label, child);
      }
      stack.push(child);
    }
    tree[stack[stack.length - 1]].self += period * (1 + Math.floor(Math.pow(rand(), 3) * 40));
  }
  // Rows depth-first, value = self + the children's values.
  const level = [];
  const label = [];
  const file = [];
  const self = [];
  const value = [];
  const visit = (i) => {
    const node = tree[i];
    const row = level.length;
    level.push(node.level);
    label.push(node.label);
    file.push(node.file);
    self.push(node.self);
    value.push(node.self);
    for (const c of node.children.values()) {
      value[row] += visit(c);
    }
    return value[row];
  };
  visit(0);
  const maxDepth = Math.max(...level);
  return {
    frame: {
      schema: {
        name: 'Flame graph',
        refId: 'A',
        meta: { typeVersion: [0, 0], preferredVisualisationType: 'flamegraph' },
        fields: [
          { name: 'level', type: 'number', typeInfo: { frame: 'int64' } },
          { name: 'value', type: 'number', typeInfo: { frame: 'int64' }, config: { unit: 'ns' } },
          { name: 'self', type: 'number', typeInfo: { frame: 'int64' }, config: { unit: 'ns' } },
          { name: 'label', type: 'string', typeInfo: { frame: 'string' } },
          { name: 'file', type: 'string', typeInfo: { frame: 'string' } },
        ],
      },
      data: { values: [level, value, self, label, file] },
    },
    stats: { nodes: level.length, maxDepth, distinctFunctions: new Set(label).size },
  };
}
