import { type DataFrame, FieldType, createDataFrame } from '@grafana/data';

/** One row of a synthetic nested-set frame; value is computed from self and the children. */
export interface Row {
  level: number;
  label: string;
  file?: string;
  self: number;
  selfRight?: number;
}

/** A nested-set frame (depth-first rows) with value = self + children's values, like the backend's. */
export function flameFrame(rows: Row[]): DataFrame {
  const value = rows.map((r) => r.self);
  const valueRight = rows.map((r) => r.selfRight ?? 0);
  // Children follow their parent, so adding each node to its parent from the last row up totals every subtree.
  const parent = parentsOf(rows.map((r) => r.level));
  for (let i = rows.length - 1; i > 0; i--) {
    if (parent[i] >= 0) {
      value[parent[i]] += value[i];
      valueRight[parent[i]] += valueRight[i];
    }
  }
  const diff = rows.some((r) => r.selfRight !== undefined);
  return createDataFrame({
    name: 'Flame graph',
    refId: 'A',
    fields: [
      { name: 'level', type: FieldType.number, values: rows.map((r) => r.level) },
      { name: 'value', type: FieldType.number, values: value, config: { unit: 'ns' } },
      { name: 'self', type: FieldType.number, values: rows.map((r) => r.self), config: { unit: 'ns' } },
      ...(diff
        ? [
            { name: 'valueRight', type: FieldType.number, values: valueRight, config: { unit: 'ns' } },
            {
              name: 'selfRight',
              type: FieldType.number,
              values: rows.map((r) => r.selfRight ?? 0),
              config: { unit: 'ns' },
            },
          ]
        : []),
      { name: 'label', type: FieldType.string, values: rows.map((r) => r.label) },
      { name: 'file', type: FieldType.string, values: rows.map((r) => r.file ?? '') },
    ],
  });
}

/** The parent row of every row of a nested set (-1 for level-0 rows). */
export function parentsOf(levels: number[]): number[] {
  const parent: number[] = [];
  const stack: number[] = [];
  for (let i = 0; i < levels.length; i++) {
    stack.length = levels[i];
    parent.push(levels[i] > 0 ? stack[levels[i] - 1] : -1);
    stack.push(i);
  }
  return parent;
}

/** A frame's rows as objects, for comparing whole frames in tests. */
export function rowsOf(frame: DataFrame): Array<Record<string, string | number>> {
  return Array.from({ length: frame.length }, (_, i) =>
    Object.fromEntries(frame.fields.map((f) => [f.name, f.values[i]]))
  );
}

/** A deterministic pseudo-random generator (mulberry32), so generated trees are the same on every run. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VENDORS = ['laravel/framework', 'symfony/http-kernel', 'guzzlehttp/guzzle', 'monolog/monolog'];
const APP_DIRS = ['app/Http', 'app/Models', 'routes', 'public'];

/**
 * A generated PHP-looking profile of n nodes (root "total" included), depth up to maxDepth: methods of classes in
 * Composer packages and application directories, plain functions, internal functions without a file, and runtime
 * frames. With diff, every node also has a selfRight.
 */
export function generatedTree(n: number, seed: number, diff = false, maxDepth = 40): Row[] {
  const rnd = random(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const rows: Row[] = [{ level: 0, label: 'total', self: 0, ...(diff ? { selfRight: 0 } : {}) }];
  let level = 0;
  while (rows.length < n) {
    // Go down one level, stay, or climb a few, so the tree gets both depth and width.
    const r = rnd();
    level = r < 0.45 ? Math.min(level + 1, maxDepth) : r < 0.8 ? level : Math.max(1, level - 1 - Math.floor(rnd() * 4));
    level = Math.min(Math.max(level, 1), rows[rows.length - 1].level + 1);
    const kind = rnd();
    let label: string;
    let file = '';
    if (kind < 0.5) {
      const vendor = pick(VENDORS);
      const ns = vendor
        .split('/')
        .map((s) => s[0].toUpperCase() + s.slice(1))
        .join('\\');
      const cls = `${ns}\\C${Math.floor(rnd() * 30)}`;
      label = `${cls}::m${Math.floor(rnd() * 8)}`;
      file = `/var/www/shop/vendor/${vendor}/src/${cls.replace(/\\/g, '/')}.php`;
    } else if (kind < 0.8) {
      const dir = pick(APP_DIRS);
      const cls = `App\\${dir.replace(/\//g, '\\')}\\K${Math.floor(rnd() * 20)}`;
      label = `${cls}::run${Math.floor(rnd() * 5)}`;
      file = `/var/www/shop/${dir}/K.php`;
    } else if (kind < 0.9) {
      label = pick(['strlen', 'array_map', 'PDO::query', 'json_encode']);
    } else if (kind < 0.97) {
      label = `helper${Math.floor(rnd() * 10)}`;
      file = '/var/www/shop/app/helpers.php';
    } else {
      label = pick(['[php-fpm]', '{main}', '[truncated]']);
      file = label === '{main}' ? '/var/www/shop/public/index.php' : '';
    }
    rows.push({
      level,
      label,
      file,
      self: Math.floor(rnd() * 1000),
      ...(diff ? { selfRight: Math.floor(rnd() * 500) } : {}),
    });
  }
  return rows;
}
