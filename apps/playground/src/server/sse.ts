import type { ServerResponse } from 'node:http';
import type { JobEvent } from '../api/api-types.js';

/** Opens a Server-Sent Events response on a raw Node response. */
export function openEventStream(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies (nginx) must not buffer the stream.
    'x-accel-buffering': 'no',
  });
  // A client that loses the connection retries after 2 s (EventSource's own reconnect).
  res.write('retry: 2000\n\n');
}

/** One event: the SSE event name is the event's type, its data the JSON of the event. */
export function writeEvent(res: ServerResponse, event: JobEvent): void {
  res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
}

/** Parses an SSE body into its events (tests, and anything reading the stream without EventSource). */
export function parseEventStream(text: string): JobEvent[] {
  const events: JobEvent[] = [];
  for (const block of text.split('\n\n')) {
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => line.slice(6))
      .join('\n');
    if (data) events.push(JSON.parse(data) as JobEvent);
  }
  return events;
}
