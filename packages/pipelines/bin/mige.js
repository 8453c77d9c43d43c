#!/usr/bin/env node
// The `mige` command. A committed file (not the build output itself), so that package managers
// can link the command before the package is built.
import '../dist/cli.js';
