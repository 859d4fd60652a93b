// Stands in for src/panel/module when that file does not exist (the harness builds before the panel
// is written): importing the flame panel then fails with this message instead of the build failing.
export const plugin = undefined;
throw new Error('harness: src/panel/module.tsx does not exist; build the harness again once it does');
