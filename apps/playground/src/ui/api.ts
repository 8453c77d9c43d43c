import type { InfoResponse, JobAccepted, JobEvent, JobRequest } from '../api/api-types.js';

async function json<T>(response: Response): Promise<T> {
  const body = (await response.json().catch(() => ({ error: `HTTP ${response.status}` }))) as T | { error: string };
  if (!response.ok) throw new Error((body as { error?: string }).error ?? `HTTP ${response.status}`);
  return body as T;
}

export async function fetchInfo(): Promise<InfoResponse> {
  return json<InfoResponse>(await fetch('api/info'));
}

/** Queues a job; rejects with the server's message on a bad request. */
export async function submitJob(request: JobRequest): Promise<JobAccepted> {
  return json<JobAccepted>(await fetch('api/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request) }));
}

export async function cancelJob(id: string): Promise<void> {
  await fetch(`api/jobs/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

const EVENT_TYPES: readonly JobEvent['type'][] = ['queued', 'progress', 'preview', 'done', 'error', 'cancelled'];

/**
 * Follows a job's Server-Sent Events until its final event. Closing the stream (the returned
 * function, or leaving the page) makes the server cancel the job.
 */
export function watchJob(id: string, onEvent: (event: JobEvent) => void): () => void {
  const source = new EventSource(`api/jobs/${encodeURIComponent(id)}/events`);
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as JobEvent;
      if (event.type === 'done' || event.type === 'error' || event.type === 'cancelled') source.close();
      onEvent(event);
    });
  }
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) onEvent({ type: 'error', message: 'lost the connection to the server' });
  };
  return () => source.close();
}
