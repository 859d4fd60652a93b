import type { AgentStatus, PhpBinary, Pool } from './types';

/** One php-fpm pool (or a binary without pools) of one agent: what the fleet tables list. */
export interface PoolRow {
  id: string;
  binary: PhpBinary;
  pool?: Pool;
}

/** The pools of every binary an agent sees, in its order; a binary running no pool is a row of its own. */
export function poolRows(status: AgentStatus | undefined): PoolRow[] {
  const rows: PoolRow[] = [];
  for (const binary of status?.binaries ?? []) {
    const pools = binary.pools ?? [];
    if (pools.length === 0) {
      rows.push({ id: binary.id || binary.path, binary });
    }
    for (const pool of pools) {
      rows.push({ id: `${binary.id || binary.path}/${pool.name}`, binary, pool });
    }
  }
  return rows;
}
