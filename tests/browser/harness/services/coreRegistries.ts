// Grafana core fills three registries of @grafana/data at start-up (public/app/core/components/OptionsUI,
// features/panel/standardOptions and features/transformers, not on npm):
//  - standardEditorsRegistry: the option editor components that PanelOptionsEditorBuilder.addRadio()
//    etc. look up by id. The harness has no panel editor, so every id gets a placeholder component;
//    the option processing and defaults come from @grafana/data itself.
//  - standardFieldConfigEditorRegistry: the standard field options (unit, min, max, decimals, display
//    name, links, mappings, thresholds, color, no value) that applyFieldOverrides applies to every
//    panel's data. Defined here with @grafana/data's processors and Grafana's defaults.
//  - standardTransformersRegistry: the data transformations (reduce, organize, sortBy, …) that scenes'
//    SceneDataTransformer looks up by id, silently skipping unknown ones. The implementations are
//    @grafana/data's own standardTransformers; only their editors are core's.
import React from 'react';
import {
  booleanOverrideProcessor,
  type DataTransformerInfo,
  dataLinksOverrideProcessor,
  displayNameOverrideProcessor,
  type FieldConfigPropertyItem,
  FieldType,
  identityOverrideProcessor,
  numberOverrideProcessor,
  type StandardEditorsRegistryItem,
  standardEditorsRegistry,
  standardFieldConfigEditorRegistry,
  standardTransformers,
  standardTransformersRegistry,
  type TransformerRegistryItem,
  stringOverrideProcessor,
  thresholdsOverrideProcessor,
  ThresholdsMode,
  unitOverrideProcessor,
  valueMappingsOverrideProcessor,
} from '@grafana/data';

const EDITOR_IDS = [
  'text',
  'number',
  'slider',
  'boolean',
  'radio',
  'select',
  'multi-select',
  'unit',
  'color',
  'fieldColor',
  'field-name',
  'links',
  'actions',
  'mappings',
  'thresholds',
  'stats-picker',
  'strings',
  'timezone',
  'dashboard-uid',
  'interval',
];

function NoOptionsEditor() {
  return React.createElement('span', null, 'harness: no options editor');
}

const editor = NoOptionsEditor as unknown as StandardEditorsRegistryItem['editor'];

type Item = FieldConfigPropertyItem<any, any, any>;

const isNumber = (field: { type: FieldType }) => field.type === FieldType.number;

function standardFieldConfigs(): Item[] {
  const category = ['Standard options'];
  const base = { editor, override: editor, category, shouldApply: () => true, settings: {} };
  return [
    { ...base, id: 'displayName', path: 'displayName', name: 'Display name', process: displayNameOverrideProcessor },
    { ...base, id: 'unit', path: 'unit', name: 'Unit', process: unitOverrideProcessor },
    {
      ...base,
      id: 'fieldMinMax',
      path: 'fieldMinMax',
      name: 'Field min/max',
      process: booleanOverrideProcessor,
      shouldApply: isNumber,
    },
    { ...base, id: 'min', path: 'min', name: 'Min', process: numberOverrideProcessor, shouldApply: isNumber },
    { ...base, id: 'max', path: 'max', name: 'Max', process: numberOverrideProcessor, shouldApply: isNumber },
    {
      ...base,
      id: 'decimals',
      path: 'decimals',
      name: 'Decimals',
      process: numberOverrideProcessor,
      shouldApply: isNumber,
    },
    { ...base, id: 'noValue', path: 'noValue', name: 'No value', process: stringOverrideProcessor },
    { ...base, id: 'links', path: 'links', name: 'Data links', process: dataLinksOverrideProcessor },
    {
      ...base,
      id: 'mappings',
      path: 'mappings',
      name: 'Value mappings',
      process: valueMappingsOverrideProcessor,
      defaultValue: [],
      shouldApply: (field) => field.type !== FieldType.time,
    },
    {
      ...base,
      id: 'thresholds',
      path: 'thresholds',
      name: 'Thresholds',
      process: thresholdsOverrideProcessor,
      defaultValue: {
        mode: ThresholdsMode.Absolute,
        steps: [
          { value: -Infinity, color: 'green' },
          { value: 80, color: 'red' },
        ],
      },
    },
    {
      ...base,
      id: 'color',
      path: 'color',
      name: 'Color scheme',
      process: identityOverrideProcessor,
      settings: { byValueSupport: true, preferThresholdsMode: true },
    },
    {
      ...base,
      id: 'filterable',
      path: 'filterable',
      name: 'Ad-hoc filterable',
      process: booleanOverrideProcessor,
      hideFromDefaults: true,
    },
  ];
}

function transformers(): TransformerRegistryItem[] {
  // standardTransformers lists joinByField twice (seriesToColumns is its deprecated alias).
  const unique = new Map(Object.values(standardTransformers).map((info) => [info.id, info]));
  return Array.from(unique.values(), (info) => ({
    id: info.id,
    name: info.name,
    description: info.description,
    transformation: () => Promise.resolve(info as DataTransformerInfo),
    editor: editor as unknown as TransformerRegistryItem['editor'],
    // Pictures for the transformation picker, which the harness does not show.
    imageDark: '',
    imageLight: '',
  }));
}

export function initCoreRegistries() {
  standardEditorsRegistry.setInit(() => EDITOR_IDS.map((id) => ({ id, name: id, editor })));
  standardFieldConfigEditorRegistry.setInit(standardFieldConfigs);
  standardTransformersRegistry.setInit(transformers);
}
