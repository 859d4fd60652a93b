import React from 'react';
import { css } from '@emotion/css';
import {
  type SceneComponentProps,
  sceneGraph,
  SceneObjectBase,
  type SceneObjectState,
  type TextBoxVariable,
  type VizPanel,
} from '@grafana/scenes';
import { Button, LinkButton, Stack, Text, useStyles2 } from '@grafana/ui';
import { VAR_DATASOURCE, VAR_TRACE_ID } from '../../constants';
import { exploreTraceUrl } from '../../scenes/explore';

export interface TraceSectionState extends SceneObjectState {
  /** The traces panel, whose query reads the traceId variable. */
  panel: VizPanel;
}

/** The chosen trace: its panel, with a way to Explore and to close it; a hint while none is chosen. */
export class TraceSection extends SceneObjectBase<TraceSectionState> {
  static Component = TraceSectionRenderer;

  get traceIdVariable(): TextBoxVariable | undefined {
    return sceneGraph.lookupVariable(VAR_TRACE_ID, this) as TextBoxVariable | undefined;
  }

  close = () => this.traceIdVariable?.setValue('');
}

const getStyles = () => ({
  // The traces panel fills its box, which must have a height of its own.
  panel: css({ height: 640 }),
});

function TraceSectionRenderer({ model }: SceneComponentProps<TraceSection>) {
  const styles = useStyles2(getStyles);
  const { panel } = model.useState();
  const traceId = model.traceIdVariable?.useState().value ?? '';
  const { from, to } = sceneGraph.getTimeRange(model).useState();
  if (!traceId) {
    return <NoTraceChosen />;
  }
  const datasourceUid = sceneGraph.interpolate(model, `\${${VAR_DATASOURCE}}`);
  return (
    <Stack direction="column" gap={1}>
      <TraceActions
        traceId={traceId}
        exploreUrl={exploreTraceUrl(datasourceUid, traceId, { from, to })}
        onClose={model.close}
      />
      <div className={styles.panel}>
        <panel.Component model={panel} />
      </div>
    </Stack>
  );
}

export function NoTraceChosen() {
  return (
    <Text color="secondary" italic>
      Click a trace id in the table and choose “Show trace … below” to see its spans here; the other link opens it in
      Explore.
    </Text>
  );
}

export interface TraceActionsProps {
  traceId: string;
  exploreUrl: string;
  onClose: () => void;
}

export function TraceActions({ traceId, exploreUrl, onClose }: TraceActionsProps) {
  return (
    <Stack alignItems="center" gap={1}>
      <Text element="h3" variant="h5">
        Trace {traceId}
      </Text>
      <LinkButton icon="compass" variant="secondary" size="sm" href={exploreUrl}>
        Open in Explore
      </LinkButton>
      <Button icon="times" variant="secondary" fill="text" size="sm" onClick={onClose}>
        Close
      </Button>
    </Stack>
  );
}
