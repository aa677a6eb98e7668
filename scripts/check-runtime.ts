// npm scripts put node_modules/.bin first on PATH, so `node` here is the Node
// pinned by the `node` package. Say so loudly if that ever stops being true.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`expected the pinned Node 24 runtime, got ${process.version}: run npm ci first`);
  process.exit(1);
}
console.log(`runtime: Node ${process.version}`);
