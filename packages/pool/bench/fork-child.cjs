// The child of the minimal fork pool the process bench compares against.
process.on('message', ([id, x]) => process.send([id, x + 1]));
