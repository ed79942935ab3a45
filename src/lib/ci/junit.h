/*
 * A CI run as JUnit XML, the format CI systems show test results from:
 * <testsuites> with one <testsuite> ("otap ci run"), one <testcase> per
 * gate with its time; <failure> holds the reason and the tail of the
 * gate's output (already redacted), <skipped> a gate that did not run.
 */
#ifndef OTAP_CI_JUNIT_H
#define OTAP_CI_JUNIT_H

#include "base/strbuf.h"
#include "ci/ci.h"

/* timestamp: ISO 8601 UTC, when the run started. */
void ci_junit(struct strbuf *sb, const struct ci_plan *p, const char *project,
              const char *timestamp);

#endif
