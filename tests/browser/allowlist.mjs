// Console errors and page errors a scenario may see without failing, each with the reason it is not a
// fault of the plugin. Everything else logged with console.error, and every uncaught page error, fails
// the scenario: a person would be looking at a broken page or a red toast.
//
// { scenarios: names it applies to, or undefined for all; match: RegExp on the message; reason }
export const ALLOWED = [];

export function allowed(scenario, message) {
  return ALLOWED.find((a) => (!a.scenarios || a.scenarios.includes(scenario)) && a.match.test(message));
}
