// Preloaded (--import) into every watched child: at exit it writes the process's peak resident
// set and CPU time to fd 3, which the watchdog reads. A child killed by a signal writes nothing,
// and the watchdog falls back to what it saw in /proc.
import * as fs from 'node:fs';

// Only the watched process reports; processes it starts inherit neither the flag nor the preload.
const active = process.env.MIGE_FUZZ_REPORT_FD === '3';
delete process.env.MIGE_FUZZ_REPORT_FD;
if (process.env.NODE_OPTIONS) process.env.NODE_OPTIONS = process.env.NODE_OPTIONS.replace(/--import \S*rss-reporter\.mjs/, '').trim();

if (active)
  process.on('exit', () => {
  const cpu = process.cpuUsage();
  try {
    fs.writeSync(3, JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, cpuMs: (cpu.user + cpu.system) / 1000 }));
  } catch {
    // fd 3 is not open (the process was not started by the watchdog)
  }
});
