import { useCallback, useState } from 'react';
import { disableDeepMode, enableDeepMode, errorMessage } from '../../fleet/api';
import { deepModeTarget } from '../../fleet/format';
import type { DeepMode, DeepModeRequest } from '../../fleet/types';

export interface Feedback {
  severity: 'success' | 'error';
  title: string;
  text: string;
}

export interface DeepModeActions {
  feedback?: Feedback;
  clearFeedback: () => void;
  /** Asks the agent for deep mode; true when it was granted. */
  enable: (request: DeepModeRequest) => Promise<boolean>;
  disable: (mode: DeepMode) => Promise<void>;
}

/** Turns one agent's deep modes on and off, keeping what happened to show it; `changed` reloads the status. */
export function useDeepModeActions(agent: string, changed: () => void): DeepModeActions {
  const [feedback, setFeedback] = useState<Feedback>();

  const enable = useCallback(
    async (request: DeepModeRequest) => {
      try {
        const granted = await enableDeepMode(agent, request);
        const until = new Date(granted.expiresAt).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
        setFeedback({
          severity: 'success',
          title: 'Deep mode is on',
          text: `Function spans of ${deepModeTarget(granted)} on ${agent} until ${until}, for calls of at least ${granted.threshold}.`,
        });
        changed();
        return true;
      } catch (error) {
        setFeedback({ severity: 'error', title: 'Deep mode was not enabled', text: errorMessage(error) });
        return false;
      }
    },
    [agent, changed]
  );

  const disable = useCallback(
    async (mode: DeepMode) => {
      try {
        await disableDeepMode(agent, mode.id);
        setFeedback({
          severity: 'success',
          title: 'Deep mode is off',
          text: `On ${deepModeTarget(mode)} of ${agent}.`,
        });
      } catch (error) {
        setFeedback({ severity: 'error', title: 'Deep mode was not turned off', text: errorMessage(error) });
      }
      changed();
    },
    [agent, changed]
  );

  const clearFeedback = useCallback(() => setFeedback(undefined), []);
  return { feedback, clearFeedback, enable, disable };
}
