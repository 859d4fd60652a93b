import { goldenStatus } from '../testing/golden';
import { poolRows } from './poolRows';

it('lists every pool of every binary', () => {
  const status = goldenStatus();
  const rows = poolRows(status);
  expect(rows.map((r) => r.pool?.name)).toEqual(status.binaries![0].pools!.map((p) => p.name));
  expect(rows[0].id).toBe(`${status.binaries![0].id}/${status.binaries![0].pools![0].name}`);
});

it('keeps a binary without pools as a row of its own', () => {
  const status = goldenStatus();
  status.binaries = [{ ...status.binaries![0], pools: null }];
  expect(poolRows(status)).toEqual([{ id: status.binaries[0].id, binary: status.binaries[0] }]);
  expect(poolRows(undefined)).toEqual([]);
});
