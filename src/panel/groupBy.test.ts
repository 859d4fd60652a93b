import { type DataFrame } from '@grafana/data';
import { checkFields } from '@grafana/flamegraph';
import {
  GLOBAL_NAMESPACE,
  type GroupBy,
  PHP_INTERNALS,
  appRootOf,
  classOf,
  groupFlameFrame,
  namespaceOf,
  packageOf,
} from './groupBy';
import { flameFrame, generatedTree, parentsOf, rowsOf } from './testing/flameTree';
import { recordedFlameFrame } from './testing/recordedFrame';

const KERNEL = '/var/www/shop/app/Http/Kernel.php';
const ROUTER = '/var/www/shop/vendor/laravel/framework/src/Illuminate/Routing/Router.php';

// total
// ├─ App\Http\Kernel::handle            self 5
// │  ├─ App\Http\Kernel::dispatch       self 10
// │  │  └─ strlen                       self 20
// │  └─ Illuminate\Routing\Router::run  self 25
// └─ App\Http\Kernel::terminate         self 15
//    └─ App\Http\Kernel::dispatch       self 0
//       └─ strlen                       self 25
const laravel = flameFrame([
  { level: 0, label: 'total', self: 0 },
  { level: 1, label: 'App\\Http\\Kernel::handle', file: KERNEL, self: 5 },
  { level: 2, label: 'App\\Http\\Kernel::dispatch', file: KERNEL, self: 10 },
  { level: 3, label: 'strlen', self: 20 },
  { level: 2, label: 'Illuminate\\Routing\\Router::run', file: ROUTER, self: 25 },
  { level: 1, label: 'App\\Http\\Kernel::terminate', file: KERNEL, self: 15 },
  { level: 2, label: 'App\\Http\\Kernel::dispatch', file: KERNEL, self: 0 },
  { level: 3, label: 'strlen', self: 25 },
]);

const values = (frame: DataFrame, name: string) => frame.fields.find((f) => f.name === name)!.values as number[];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

/** Asserts frame is a valid nested set whose values add up, with no two siblings of one label. */
function expectValidNestedSet(frame: DataFrame) {
  expect(checkFields(frame)).toBeUndefined();
  const level = values(frame, 'level');
  const labels = frame.fields.find((f) => f.name === 'label')!.values as string[];
  expect(level[0]).toBe(0);
  expect(level.findIndex((l, i) => i > 0 && l > level[i - 1] + 1)).toBe(-1);
  const parent = parentsOf(level);
  for (const [total, self] of [
    ['value', 'self'],
    ['valueRight', 'selfRight'],
  ]) {
    if (!frame.fields.some((f) => f.name === total)) {
      continue;
    }
    const children = new Array(level.length).fill(0);
    const v = values(frame, total);
    parent.forEach((p, i) => p >= 0 && (children[p] += v[i]));
    const s = values(frame, self);
    const bad = v.findIndex((x, i) => x !== s[i] + children[i]);
    expect(bad).toBe(-1);
  }
  const siblings = new Set(parent.map((p, i) => `${p}\u0000${labels[i]}`));
  expect(siblings.size).toBe(level.length);
}

describe('group labels', () => {
  it.each([
    ['App\\Http\\Kernel::handle', 'App\\Http\\Kernel'],
    ['App\\Http\\Kernel::{closure}', 'App\\Http\\Kernel'],
    ['{closure:App\\Http\\Kernel::handle():42}', 'App\\Http\\Kernel'],
    ['PDO::query', 'PDO'],
    ['burn', undefined],
    ['{main}', undefined],
    ['[php-fpm]', undefined],
  ])('class of %s is %s', (label, cls) => {
    expect(classOf(label)).toBe(cls);
  });

  it.each([
    ['App\\Http\\Kernel::handle', 'App\\Http'],
    ['\\App\\Http\\Kernel::handle', 'App\\Http'],
    ['App\\helpers\\money', 'App\\helpers'],
    ['PDO::query', GLOBAL_NAMESPACE],
    ['burn', GLOBAL_NAMESPACE],
    ['{main}', GLOBAL_NAMESPACE],
  ])('namespace of %s is %s', (label, ns) => {
    expect(namespaceOf(label)).toBe(ns);
  });

  it.each([
    [ROUTER, 'laravel/framework'],
    ['/var/www/shop/vendor/composer/ClassLoader.php', 'composer'],
    [KERNEL, 'app'],
    ['/var/www/shop/artisan.php', 'shop'],
    ['/usr/share/php/PEAR.php', '/usr/share/php'],
    ['', PHP_INTERNALS],
  ])('package of %s is %s', (file, pkg) => {
    expect(packageOf(file, '/var/www/shop')).toBe(pkg);
  });

  it('finds the application directory from vendor/, else from the files in common', () => {
    expect(appRootOf([KERNEL, ROUTER, ''])).toBe('/var/www/shop');
    expect(appRootOf(['/srv/wp/wp-includes/plugin.php', '/srv/wp/index.php', ''])).toBe('/srv/wp');
    expect(appRootOf([])).toBe('');
  });
});

describe('groupFlameFrame', () => {
  it('returns the frame itself in function mode', () => {
    expect(groupFlameFrame(laravel, 'function')).toBe(laravel);
  });

  it('merges siblings of one class, and the children of merged siblings', () => {
    const grouped = groupFlameFrame(laravel, 'class');
    expect(rowsOf(grouped)).toEqual([
      { level: 0, label: 'total', value: 100, self: 0, file: '' },
      { level: 1, label: 'App\\Http\\Kernel', value: 100, self: 20, file: KERNEL },
      { level: 2, label: 'App\\Http\\Kernel', value: 55, self: 10, file: KERNEL },
      { level: 3, label: 'strlen', value: 45, self: 45, file: '' },
      { level: 2, label: 'Illuminate\\Routing\\Router', value: 25, self: 25, file: ROUTER },
    ]);
    expectValidNestedSet(grouped);
  });

  it('groups by namespace and by Composer package', () => {
    expect(rowsOf(groupFlameFrame(laravel, 'namespace')).map((r) => [r.level, r.label, r.value])).toEqual([
      [0, 'total', 100],
      [1, 'App\\Http', 100],
      [2, 'App\\Http', 55],
      [3, GLOBAL_NAMESPACE, 45],
      [2, 'Illuminate\\Routing', 25],
    ]);
    expect(rowsOf(groupFlameFrame(laravel, 'package')).map((r) => [r.level, r.label, r.value, r.file])).toEqual([
      [0, 'total', 100, ''],
      [1, 'app', 100, KERNEL],
      [2, 'app', 55, KERNEL],
      [3, PHP_INTERNALS, 45, ''],
      [2, 'laravel/framework', 25, ROUTER],
    ]);
  });

  it('drops the file of a node whose members had different files', () => {
    const frame = flameFrame([
      { level: 0, label: 'total', self: 0 },
      { level: 1, label: 'App\\A::x', file: '/app/src/A.php', self: 1 },
      { level: 1, label: 'App\\B::y', file: '/app/src/B.php', self: 2 },
    ]);
    expect(rowsOf(groupFlameFrame(frame, 'namespace'))[1]).toEqual({
      level: 1,
      label: 'App',
      value: 3,
      self: 3,
      file: '',
    });
  });

  it('sums the diff fields too', () => {
    const diff = flameFrame([
      { level: 0, label: 'total', self: 0, selfRight: 0 },
      { level: 1, label: 'App\\A::x', file: '/app/src/A.php', self: 4, selfRight: 1 },
      { level: 2, label: 'strlen', self: 6, selfRight: 2 },
      { level: 1, label: 'App\\A::y', file: '/app/src/A.php', self: 10, selfRight: 7 },
      { level: 2, label: 'strlen', self: 3, selfRight: 3 },
    ]);
    const grouped = groupFlameFrame(diff, 'class');
    expect(rowsOf(grouped)).toEqual([
      { level: 0, label: 'total', value: 23, self: 0, valueRight: 13, selfRight: 0, file: '' },
      { level: 1, label: 'App\\A', value: 23, self: 14, valueRight: 13, selfRight: 8, file: '/app/src/A.php' },
      { level: 2, label: 'strlen', value: 9, self: 9, valueRight: 5, selfRight: 5, file: '' },
    ]);
    expectValidNestedSet(grouped);
  });

  it('keeps units and field types, so @grafana/flamegraph reads the result', () => {
    const grouped = groupFlameFrame(laravel, 'package');
    expect(grouped.fields.find((f) => f.name === 'value')?.config.unit).toBe('ns');
    expect(grouped.refId).toBe('A');
    expect(grouped.length).toBe(5);
  });

  it('groups the recorded frame: {main} and burn are in the application directory', () => {
    const frame = recordedFlameFrame();
    expect(rowsOf(frame).map((r) => r.label)).toEqual(['total', '{main}', 'burn']);
    const grouped = groupFlameFrame(frame, 'package');
    expect(rowsOf(grouped).map((r) => [r.label, r.value, r.self])).toEqual([
      ['total', 300601200, 0],
      ['app', 300601200, 0],
      ['app', 300601200, 300601200],
    ]);
    expectValidNestedSet(grouped);
    expect(rowsOf(groupFlameFrame(frame, 'class')).map((r) => r.label)).toEqual(['total', '{main}', 'burn']);
  });

  it('handles stacks deeper than the JavaScript call stack would allow recursively', () => {
    const depth = 20000;
    const chain = flameFrame(
      Array.from({ length: depth }, (_, i) => ({
        level: i,
        label: i === 0 ? 'total' : `App\\Rec::f${i % 3}`,
        file: '/app/src/Rec.php',
        self: 1,
      }))
    );
    const grouped = groupFlameFrame(chain, 'class');
    expect(grouped.length).toBe(depth);
    expect(values(grouped, 'value')[0]).toBe(depth);
  });

  // The render benchmark runs 50k nodes in Chromium; this checks the transform's results at that size (it is O(n):
  // one labelling pass, one merging pass over a map, one writing pass).
  it.each<GroupBy>(['class', 'namespace', 'package'])('groups a generated 50k-node diff tree by %s', (mode) => {
    const frame = flameFrame(generatedTree(50000, 7, true));
    const grouped = groupFlameFrame(frame, mode);
    expect(grouped.length).toBeLessThan(frame.length);
    expect(values(grouped, 'value')[0]).toBe(values(frame, 'value')[0]);
    expect(values(grouped, 'valueRight')[0]).toBe(values(frame, 'valueRight')[0]);
    expect(sum(values(grouped, 'self'))).toBe(sum(values(frame, 'self')));
    expect(sum(values(grouped, 'selfRight'))).toBe(sum(values(frame, 'selfRight')));
    expectValidNestedSet(grouped);
  });
});
