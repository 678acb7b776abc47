// The trivial task of the peer thread pools (piscina, tinypool): x => x + 1.
module.exports = (x) => x + 1;
