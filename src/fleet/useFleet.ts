import { useCallback, useEffect, useMemo, useState } from 'react';
import { errorMessage, getFleet } from './api';
import type { FleetResponse } from './types';

export interface FleetLoad {
  fleet?: FleetResponse;
  loading: boolean;
  /** Why GET fleet itself failed (the app backend is not running, say); agents' own errors are in fleet. */
  error?: string;
  reload: () => void;
}

interface Answer {
  /** The request this answers. */
  request: object;
  fleet?: FleetResponse;
  error?: string;
}

/**
 * The fleet's status, fetched again whenever `trigger` changes (pass the scene's time range, which the refresh
 * picker renews) or reload() is called. The last answer stays shown while the next one loads.
 */
export function useFleet(trigger?: unknown): FleetLoad {
  const [generation, setGeneration] = useState(0);
  // A new object per fetch: the answer is current when it answers this one.
  const request = useMemo(() => ({ trigger, generation }), [trigger, generation]);
  const [answer, setAnswer] = useState<Answer>();

  useEffect(() => {
    let current = true;
    getFleet().then(
      (fleet) => current && setAnswer({ request, fleet }),
      (error: unknown) =>
        current && setAnswer((previous) => ({ request, fleet: previous?.fleet, error: errorMessage(error) }))
    );
    return () => {
      current = false;
    };
  }, [request]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { fleet: answer?.fleet, error: answer?.error, loading: answer?.request !== request, reload };
}
