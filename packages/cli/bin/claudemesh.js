#!/usr/bin/env node
// Entry point of the `claudemesh` command: runs the compiled CLI.
import { runFromProcess } from "../dist/main.js";

await runFromProcess();
