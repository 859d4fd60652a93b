import { OrgRole } from '@grafana/data';
import { config } from '@grafana/runtime';

/**
 * Whether the signed-in user may turn deep mode on or off: the plugin backend refuses anyone below Editor in the
 * organisation (deep mode spends the PHP application's CPU), so the page does not offer what would be refused.
 */
export function canChangeProbes(): boolean {
  const role = config.bootData?.user?.orgRole;
  return role === OrgRole.Editor || role === OrgRole.Admin;
}

export const CHANGE_PROBES_ROLE_HINT =
  'Turning deep mode on or off needs the Editor or Admin role in this organisation.';
