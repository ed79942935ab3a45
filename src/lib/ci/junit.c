/*
 * JUnit XML (junit.h). Written, not parsed, so no XML library: text is
 * escaped, and bytes XML 1.0 cannot carry (control characters, invalid
 * UTF-8) become U+FFFD, so the file always parses.
 */
#include "ci/junit.h"

#include <string.h>

#include "base/utf8.h"
#include "base/banned.h"

static void xml_text(struct strbuf *sb, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        if (c == '&')
            strbuf_addstr(sb, "&amp;");
        else if (c == '<')
            strbuf_addstr(sb, "&lt;");
        else if (c == '>')
            strbuf_addstr(sb, "&gt;");
        else if (c == '"')
            strbuf_addstr(sb, "&quot;");
        else if (c < 0x20 && c != '\n' && c != '\t')
            strbuf_addstr(sb, "\xEF\xBF\xBD");
        else if (c < 0x80)
            strbuf_addch(sb, (char)c);
        else {
            size_t len = utf8_seq_len(s + i, n - i);
            if (!len) {
                strbuf_addstr(sb, "\xEF\xBF\xBD");
                i++;
                continue;
            }
            strbuf_add(sb, s + i, len);
            i += len;
            continue;
        }
        i++;
    }
}

static void xml_str(struct strbuf *sb, const char *s)
{
    xml_text(sb, s, strlen(s));
}

void ci_junit(struct strbuf *sb, const struct ci_plan *p, const char *project,
              const char *timestamp)
{
    size_t failures = 0, skipped = 0;
    double total = 0;
    for (size_t i = 0; i < p->n; i++) {
        failures += p->steps[i].status == CI_FAIL;
        skipped += p->steps[i].status == CI_SKIPPED;
        total += p->steps[i].seconds;
    }
    strbuf_addstr(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"");
    xml_str(sb, project);
    /* testsuites carries no skipped count in the common schema (junit-10.xsd) */
    strbuf_addf(sb, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" time=\"%.3f\">\n", p->n,
                failures, total);
    strbuf_addstr(sb, "  <testsuite name=\"otap ci run\" package=\"");
    xml_str(sb, project);
    strbuf_addf(sb,
                "\" id=\"0\" hostname=\"localhost\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
                "skipped=\"%zu\" time=\"%.3f\" timestamp=\"%s\">\n",
                p->n, failures, skipped, total, timestamp);
    for (size_t i = 0; i < p->n; i++) {
        const struct ci_step *s = &p->steps[i];
        strbuf_addstr(sb, "    <testcase name=\"");
        xml_str(sb, s->name);
        strbuf_addstr(sb, "\" classname=\"");
        xml_str(sb, s->gate ? "gates" : "gates.builtin");
        strbuf_addf(sb, "\" time=\"%.3f\"", s->seconds);
        if (s->status == CI_PASS) {
            strbuf_addstr(sb, "/>\n");
            continue;
        }
        strbuf_addstr(sb, ">\n");
        if (s->status == CI_SKIPPED) {
            strbuf_addstr(sb, "      <skipped message=\"");
            xml_str(sb, s->reason ? s->reason : "not run");
            strbuf_addstr(sb, "\"/>\n");
        } else {
            strbuf_addstr(sb, "      <failure message=\"");
            xml_str(sb, s->reason ? s->reason : "failed");
            strbuf_addstr(sb, "\" type=\"");
            xml_str(sb, s->timed_out ? "timeout" : "exit");
            strbuf_addstr(sb, "\">");
            xml_text(sb, s->tail.buf, s->tail.len);
            strbuf_addstr(sb, "</failure>\n");
        }
        strbuf_addstr(sb, "    </testcase>\n");
    }
    strbuf_addstr(sb, "  </testsuite>\n</testsuites>\n");
}
