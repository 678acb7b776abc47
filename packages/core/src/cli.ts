#!/usr/bin/env node
import { pluginsCli } from './plugins-cli';

void pluginsCli(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
