/**
 * Loaded (`--import`) into every process {@link LocalTopology} starts. Those processes run in
 * their own process groups, so a terminal's Ctrl-C reaches only the parent, which then SIGTERMs
 * each of them once; the other side of that is that nothing would stop them if the parent died
 * without doing so (SIGKILL, crash). The parent holds an IPC channel to each: when it closes, the
 * process stops as on SIGTERM, draining first. The channel is unreferenced, so it never keeps the
 * process alive by itself.
 */
const channel = process.channel;
if (channel) {
  channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
