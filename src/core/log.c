/* log.c: the one place that writes messages to stderr, as text or JSON lines. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/strbuf.h"

static enum log_format g_format = LOG_TEXT;
static int g_verbosity = 0;
static char g_cmd[64] = "ottrecon";

void log_init(enum log_format fmt, int verbosity, const char *cmd)
{
	g_format = fmt;
	g_verbosity = verbosity;
	log_set_command(cmd);
}

void log_set_command(const char *cmd)
{
	snprintf(g_cmd, sizeof(g_cmd), "%s", cmd ? cmd : "ottrecon");
}

enum log_format log_get_format(void)
{
	return g_format;
}

bool log_progress_enabled(void)
{
	return g_verbosity >= 0 && isatty(STDERR_FILENO);
}

/* A text log line is one line (SPEC §1): each line break inside a message (libpq's "...failed:
 * Connection refused\n\tIs the server running...") becomes "; ", with the blanks around it
 * dropped; trailing ones go. Writes at most n bytes to out, NUL included. */
static void fold_lines(const char *in, char *out, size_t n)
{
	size_t o = 0;
	while (*in && o + 1 < n) {
		if (*in != '\n' && *in != '\r') {
			out[o++] = *in++;
			continue;
		}
		while (o > 0 && (out[o - 1] == ' ' || out[o - 1] == '\t'))
			o--;
		while (*in == '\n' || *in == '\r' || *in == ' ' || *in == '\t')
			in++;
		if (*in && o > 0 && o + 3 < n) {
			out[o++] = ';';
			out[o++] = ' ';
		}
	}
	out[o] = '\0';
}

static const char *level_name(enum log_level l)
{
	switch (l) {
	case LOG_DEBUG: return "DEBUG";
	case LOG_INFO: return "INFO";
	case LOG_WARN: return "WARN";
	default: return "ERROR";
	}
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	if (level == LOG_DEBUG && g_verbosity < 1)
		return;
	if (level == LOG_INFO && g_verbosity < 0)
		return;

	char text[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	char ts[32];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);

	if (g_format == LOG_JSON) {
		struct strbuf sb = STRBUF_INIT;
		strbuf_addf(&sb, "{\"time\":\"%s\",\"level\":\"%s\",\"command\":", ts, level_name(level));
		strbuf_add_json_string(&sb, g_cmd);
		strbuf_adds(&sb, ",\"msg\":");
		strbuf_add_json_string(&sb, text);
		strbuf_adds(&sb, "}\n");
		fwrite(sb.buf, 1, sb.len, stderr);
		strbuf_release(&sb);
	} else {
		char line[sizeof(text) + 512];
		fold_lines(text, line, sizeof(line));
		fprintf(stderr, "%s %s %s: %s\n", ts, level_name(level), g_cmd, line);
	}
	fflush(stderr);
}

void log_err(const struct err *e)
{
	if (!e || !e->code)
		return;
	if (e->hint[0])
		log_error("%s (hint: %s)", e->msg, e->hint);
	else
		log_error("%s", e->msg);
}
