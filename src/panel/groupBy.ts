import { type DataFrame, type Field, FieldType } from '@grafana/data';

/**
 * How the panel labels flame-graph nodes. Every mode but `function` relabels each node by its group and merges
 * siblings that then share a label.
 *
 * Colours come along with the labels: @grafana/flamegraph colours a node by a hash of the "package" its
 * getPackageName() extracts from the label (FlameGraph/colors.mjs). In function mode that is the class for
 * "Ns\\Class::method" labels (its Node.js matcher splits at "::"), the whole label for plain functions ("burn",
 * "{main}", "Ns\\helper"), and the text up to the first dot for the rare label containing one. So methods share their
 * class's colour and every plain function gets its own. In the grouped modes a group's label has no "::", so each
 * group gets one colour of its own (24 colours, picked by hash: two groups may share one).
 */
export type GroupBy = 'function' | 'class' | 'namespace' | 'package';

/** The package of frames without a PHP file: internal functions (strlen, PDO::query) and runtime frames. */
export const PHP_INTERNALS = '(php internals)';
/** The namespace of classes and functions declared outside any namespace. */
export const GLOBAL_NAMESPACE = '\\ (global namespace)';
/** Stands for frames or stacks the agent's caps cut (pkg/profile); never regrouped. */
const TRUNCATED = '[truncated]';

/**
 * The class a label's function belongs to: "Ns\\Class" for "Ns\\Class::method" and "Ns\\Class::{closure}", and for
 * PHP 8.4 closure names "{closure:Ns\\Class::method():12}"; undefined for plain functions, "{main}" and bracketed
 * runtime frames ("[php-fpm]").
 */
export function classOf(label: string): string | undefined {
  const closure = /^\{closure:(.*)\}$/.exec(label);
  const name = closure ? closure[1] : label;
  if (!closure && (name.startsWith('{') || name.startsWith('['))) {
    return undefined;
  }
  const i = name.indexOf('::');
  return i > 0 ? name.slice(0, i) : undefined;
}

/** The namespace of a label's class, or of a namespaced function ("Ns\\helper"); GLOBAL_NAMESPACE otherwise. */
export function namespaceOf(label: string): string {
  let owner = classOf(label);
  if (owner === undefined && !label.startsWith('{') && !label.startsWith('[')) {
    owner = label;
  }
  const name = owner?.replace(/^\\/, '') ?? '';
  const i = name.lastIndexOf('\\');
  return i > 0 ? name.slice(0, i) : GLOBAL_NAMESPACE;
}

const VENDOR = '/vendor/';

/**
 * The directory the application lives in, judged from the files of one profile: the directory holding Composer's
 * vendor/ (the most frequent one), or else the deepest directory all files share.
 */
export function appRootOf(files: Iterable<string>): string {
  const roots = new Map<string, number>();
  let common: string | undefined;
  for (const file of files) {
    if (!file.startsWith('/')) {
      continue;
    }
    const v = file.indexOf(VENDOR);
    if (v >= 0) {
      const root = file.slice(0, v);
      roots.set(root, (roots.get(root) ?? 0) + 1);
    }
    if (common === undefined) {
      common = file.slice(0, file.lastIndexOf('/'));
    }
    while (common !== '' && !file.startsWith(common + '/')) {
      common = common.slice(0, common.lastIndexOf('/'));
    }
  }
  let best: string | undefined;
  let bestCount = 0;
  for (const [root, count] of roots) {
    if (count > bestCount) {
      best = root;
      bestCount = count;
    }
  }
  return best ?? common ?? '';
}

/**
 * The Composer package ("vendor/name") of a file under a vendor/ directory; otherwise the top directory of the
 * application (appRoot) the file is in, the application directory's own name for files directly in it, and the
 * file's directory for files outside it. PHP_INTERNALS for frames without a file.
 */
export function packageOf(file: string, appRoot: string): string {
  if (!file) {
    return PHP_INTERNALS;
  }
  const v = file.indexOf(VENDOR);
  if (v >= 0) {
    const [vendor, name, ...rest] = file.slice(v + VENDOR.length).split('/');
    // vendor/composer/ClassLoader.php: a file directly in a vendor directory.
    return rest.length > 0 ? `${vendor}/${name}` : vendor;
  }
  if (appRoot === '' || file.startsWith(appRoot + '/')) {
    const rel = file.slice(appRoot.length + 1);
    const slash = rel.indexOf('/');
    if (slash > 0) {
      return rel.slice(0, slash);
    }
    return appRoot.slice(appRoot.lastIndexOf('/') + 1) || '/';
  }
  return file.slice(0, file.lastIndexOf('/')) || '/';
}

function labelValues(field: Field): string[] {
  const texts: string[] | undefined = field.config.type?.enum?.text;
  if (field.type === FieldType.enum && texts) {
    return field.values.map((v: number) => texts[v] ?? String(v));
  }
  return field.values.map((v) => String(v ?? ''));
}

/** The group label of every row of a nested-set frame; the root (level 0) and "[truncated]" keep theirs. */
function groupLabels(mode: Exclude<GroupBy, 'function'>, labels: string[], files: string[], levels: number[]) {
  const out = new Array<string>(labels.length);
  const cache = new Map<string, string>();
  const appRoot = mode === 'package' ? appRootOf(new Set(files)) : '';
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (levels[i] === 0 || label === TRUNCATED) {
      out[i] = label;
      continue;
    }
    // Bracketed runtime frames ("[php-fpm]") never have a file; package mode groups them by their empty file.
    const key = mode === 'package' ? files[i] : label;
    let group = cache.get(key);
    if (group === undefined) {
      group =
        mode === 'class'
          ? (classOf(label) ?? label)
          : mode === 'namespace'
            ? label.startsWith('[')
              ? label
              : namespaceOf(label)
            : packageOf(files[i], appRoot);
      cache.set(key, group);
    }
    out[i] = group;
  }
  return out;
}

const NUMERIC = ['value', 'self', 'valueRight', 'selfRight'] as const;

/**
 * Regroups a nested-set flame-graph frame (fields level, label, value, self; optional file, valueRight, selfRight)
 * by mode: every node gets its group's label, siblings sharing a label merge into one node whose value and self (and
 * Right fields) are the sums, and the children of merged siblings merge the same way, recursively. The result is a
 * valid nested set in depth-first order, children in the order their first member appeared; a merged node keeps a
 * file only when all its members had the same one. Totals are unchanged. Function mode returns the frame itself.
 *
 * O(n) in the frame's rows: one pass to label, one to merge (a map keyed by parent and label), one to write.
 */
export function groupFlameFrame(frame: DataFrame, mode: GroupBy): DataFrame {
  if (mode === 'function') {
    return frame;
  }
  const field = (name: string) => frame.fields.find((f) => f.name === name);
  const levelField = field('level');
  const labelField = field('label');
  if (!levelField || !labelField) {
    return frame;
  }
  const n = frame.length;
  const levels = levelField.values as number[];
  const fileField = field('file');
  const files: string[] = fileField ? fileField.values.map((f) => String(f ?? '')) : new Array(n).fill('');
  const labels = groupLabels(mode, labelValues(labelField), files, levels);
  const numeric = NUMERIC.map(field).filter((f): f is Field => f !== undefined);

  // Merged nodes; index 0 is a virtual root above the frame's level-0 rows.
  const labelOf: string[] = [''];
  const fileOf: Array<string | null> = [null];
  const sums: number[][] = numeric.map(() => [0]);
  const firstChild = [-1];
  const lastChild = [-1];
  const nextSibling = [-1];
  const byParentLabel = new Map<number, number>();
  const ids = new Map<string, number>();
  for (const label of labels) {
    if (!ids.has(label)) {
      ids.set(label, ids.size);
    }
  }
  const labelCount = ids.size;

  // stack[d] is the merged node of the current original ancestor at depth d (stack[0]: the virtual root).
  const stack = [0];
  for (let i = 0; i < n; i++) {
    const depth = Math.max(0, Math.min(levels[i], stack.length - 1));
    stack.length = depth + 1;
    const parent = stack[depth];
    const key = parent * labelCount + ids.get(labels[i])!;
    let m = byParentLabel.get(key);
    if (m === undefined) {
      m = labelOf.length;
      byParentLabel.set(key, m);
      labelOf.push(labels[i]);
      fileOf.push(files[i]);
      for (const s of sums) {
        s.push(0);
      }
      firstChild.push(-1);
      lastChild.push(-1);
      nextSibling.push(-1);
      if (firstChild[parent] < 0) {
        firstChild[parent] = m;
      } else {
        nextSibling[lastChild[parent]] = m;
      }
      lastChild[parent] = m;
    } else if (fileOf[m] !== files[i]) {
      fileOf[m] = '';
    }
    numeric.forEach((f, k) => (sums[k][m!] += Number(f.values[i] ?? 0)));
    stack.push(m);
  }

  // Depth-first pre-order, iteratively: PHP stacks can be deeper than the JS call stack likes.
  const outLevel: number[] = [];
  const outLabel: string[] = [];
  const outFile: string[] = [];
  const outNumeric: number[][] = numeric.map(() => []);
  const walk: Array<[number, number]> = [];
  for (let c = firstChild[0]; c >= 0; c = nextSibling[c]) {
    walk.push([c, 0]);
  }
  walk.reverse();
  while (walk.length > 0) {
    const [m, level] = walk.pop()!;
    outLevel.push(level);
    outLabel.push(labelOf[m]);
    outFile.push(fileOf[m] ?? '');
    sums.forEach((s, k) => outNumeric[k].push(s[m]));
    const start = walk.length;
    for (let c = firstChild[m]; c >= 0; c = nextSibling[c]) {
      walk.push([c, level + 1]);
    }
    // Children were pushed first to last; reverse them in place so the first is popped first.
    for (let a = start, b = walk.length - 1; a < b; a++, b--) {
      [walk[a], walk[b]] = [walk[b], walk[a]];
    }
  }

  // New fields, not spreads of the old ones: a field's state caches calculations over its old values.
  const labelConfig = { ...labelField.config };
  delete labelConfig.type; // the enum mapping, if the label field was an enum
  const fields: Field[] = [
    { name: 'level', type: FieldType.number, config: levelField.config, values: outLevel },
    { name: 'label', type: FieldType.string, config: labelConfig, values: outLabel },
    ...numeric.map((f, k) => ({ name: f.name, type: FieldType.number, config: f.config, values: outNumeric[k] })),
  ];
  if (fileField) {
    fields.push({ name: 'file', type: FieldType.string, config: fileField.config, values: outFile });
  }
  return { ...frame, fields, length: outLevel.length };
}
