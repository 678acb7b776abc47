// workerpool's worker script (threads and process mode) with the same trivial task.
const workerpool = require('workerpool');
workerpool.worker({ inc: (x) => x + 1 });
