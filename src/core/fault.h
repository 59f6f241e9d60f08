/* fault.h: named fault-injection points for the crash tests (tests/integration, tools/soak).
 *
 * fault_point("feed-recorded") kills the process with SIGKILL, as `kill -9` would, when the
 * environment variable OTTRECON_FAULT names that point; otherwise it does nothing. Tests use it
 * to stop a run exactly between two steps whose order matters (recorded vs written), which a
 * kill from outside cannot hit reliably. */
#ifndef OTTRECON_FAULT_H
#define OTTRECON_FAULT_H

void fault_point(const char *name);

#endif
