/* log.h: messages on stderr as "2026-12-03T02:00:01Z INFO cmd: text" or one JSON object a line. */
#ifndef OTTRECON_LOG_H
#define OTTRECON_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

/* cmd names the command in every line ("validate"); verbosity: -1 quiet, 0 normal, 1+ debug. */
void log_init(enum log_format fmt, int verbosity, const char *cmd);
void log_set_command(const char *cmd);
enum log_format log_get_format(void);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

/* Logs an error value (message, then its hint) at ERROR level. */
struct err;
void log_err(const struct err *e);

/* True when progress lines may be shown (stderr is a terminal and not quiet). */
bool log_progress_enabled(void);

#endif
