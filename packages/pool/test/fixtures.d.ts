// The fixtures are plain JavaScript modules (worker threads and processes load them as is).
declare module '*.mjs' {
  const fixture: any;
  export = fixture;
}
