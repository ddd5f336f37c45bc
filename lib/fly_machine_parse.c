/* fly_machine_parse.c — reading the API's answers: Machines, lists of
 * them and error texts, never trusting the server (see fly_machine.h). */
#include "fly_machine.h"
#include "util.h"

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERROR_TEXT_MAX 300

/* An answer that is not what the API promises: -1 with why. */
static int refuse(char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s", why);
	return -1;
}

static char *dup_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return xstrdup(cJSON_IsString(v) && v->valuestring ? v->valuestring : "");
}

/* "registry/repository:tag", leaving out what is missing. */
static char *image_ref_string(const cJSON *ref)
{
	char *reg = dup_str(ref, "registry"), *repo = dup_str(ref, "repository");
	char *tag = dup_str(ref, "tag"), *s;
	if (!*repo)
		s = xstrdup("");
	else
		s = xasprintf("%s%s%s%s%s", reg, *reg ? "/" : "", repo, *tag ? ":" : "", tag);
	free(reg);
	free(repo);
	free(tag);
	return s;
}

static void parse_meta(const cJSON *meta, struct fly_machine *m)
{
	const cJSON *it;
	size_t n = 0;
	cJSON_ArrayForEach(it, meta) {
		if (cJSON_IsString(it) && it->string)
			n++;
	}
	if (!n)
		return;
	m->meta = xcalloc(n, sizeof *m->meta);
	cJSON_ArrayForEach(it, meta) {
		if (!cJSON_IsString(it) || !it->string)
			continue;
		m->meta[m->nmeta].key = xstrdup(it->string);
		m->meta[m->nmeta].value = xstrdup(it->valuestring ? it->valuestring : "");
		m->nmeta++;
	}
}

static int int_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) && v->valuedouble > -1e6 && v->valuedouble < 1e6 ? (int)v->valuedouble : 0;
}

/* The newest exit event: events are listed newest first. */
static void parse_exit(const cJSON *events, struct fly_machine *m)
{
	const cJSON *e, *x;
	cJSON_ArrayForEach(e, events) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(e, "type");
		if (!cJSON_IsString(type) || strcmp(type->valuestring, "exit"))
			continue;
		x = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(e, "request"),
		                                     "exit_event");
		if (!cJSON_IsObject(x))
			continue;
		m->exited = 1;
		m->exit_code = int_field(x, "exit_code");
		m->exit_signal = int_field(x, "signal") > 0 ? int_field(x, "signal") : 0;
		m->oom_killed = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(x, "oom_killed"));
		return;
	}
}

static int machine_from(const cJSON *o, struct fly_machine *m, char *err, size_t errlen)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id"), *config, *ref;

	memset(m, 0, sizeof *m);
	if (!cJSON_IsObject(o) || !cJSON_IsString(id) || !id->valuestring || !*id->valuestring)
		return refuse(err, errlen, "the answer is not a machine (no \"id\")");
	m->id = xstrdup(id->valuestring);
	m->name = dup_str(o, "name");
	m->instance_id = dup_str(o, "instance_id");
	m->state = dup_str(o, "state");
	m->private_ip = dup_str(o, "private_ip");
	m->region = dup_str(o, "region");
	config = cJSON_GetObjectItemCaseSensitive(o, "config");
	if (!cJSON_IsObject(config)) /* host_status != "ok" */
		config = cJSON_GetObjectItemCaseSensitive(o, "incomplete_config");
	m->image = dup_str(config, "image");
	ref = cJSON_GetObjectItemCaseSensitive(o, "image_ref");
	m->image_ref = image_ref_string(ref);
	m->image_digest = dup_str(ref, "digest");
	parse_meta(cJSON_GetObjectItemCaseSensitive(config, "metadata"), m);
	parse_exit(cJSON_GetObjectItemCaseSensitive(o, "events"), m);
	return 0;
}

static cJSON *parse_doc(const char *json, size_t len, char *err, size_t errlen)
{
	cJSON *doc = json ? cJSON_ParseWithLength(json, len) : NULL;
	if (!doc)
		refuse(err, errlen, "the answer is not JSON");
	return doc;
}

int fly_machine_parse(const char *json, size_t len, struct fly_machine *m, char *err, size_t errlen)
{
	cJSON *doc = parse_doc(json, len, err, errlen);
	int rc;
	memset(m, 0, sizeof *m);
	if (!doc)
		return -1;
	rc = machine_from(doc, m, err, errlen);
	cJSON_Delete(doc);
	return rc;
}

int fly_machines_parse(const char *json, size_t len, struct fly_machine **v, size_t *n, char *err,
                       size_t errlen)
{
	cJSON *doc = parse_doc(json, len, err, errlen);
	const cJSON *it;
	size_t i = 0;

	*v = NULL;
	*n = 0;
	if (!doc)
		return -1;
	if (!cJSON_IsArray(doc)) {
		cJSON_Delete(doc);
		return refuse(err, errlen, "the machine list is not a JSON array");
	}
	*v = xcalloc((size_t)cJSON_GetArraySize(doc), sizeof **v);
	cJSON_ArrayForEach(it, doc) {
		if (machine_from(it, &(*v)[i], err, errlen) < 0) {
			fly_machines_free(*v, i);
			*v = NULL;
			cJSON_Delete(doc);
			return -1;
		}
		i++;
	}
	*n = i;
	cJSON_Delete(doc);
	return 0;
}

const char *fly_machine_meta(const struct fly_machine *m, const char *key)
{
	for (size_t i = 0; i < m->nmeta; i++)
		if (!strcmp(m->meta[i].key, key))
			return m->meta[i].value;
	return NULL;
}

void fly_machine_free(struct fly_machine *m)
{
	char **owned[] = { &m->id,     &m->name,  &m->instance_id, &m->state,       &m->private_ip,
		           &m->region, &m->image, &m->image_ref,   &m->image_digest };
	for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
		free(owned[i][0]);
	for (size_t i = 0; i < m->nmeta; i++) {
		free(m->meta[i].key);
		free(m->meta[i].value);
	}
	free(m->meta);
	memset(m, 0, sizeof *m);
}

void fly_machines_free(struct fly_machine *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fly_machine_free(&v[i]);
	free(v);
}

/* One printable line of at most ERROR_TEXT_MAX bytes: runs of blanks and
 * control characters become one space. */
static char *one_line(const char *s, size_t len)
{
	char *out = xmalloc(ERROR_TEXT_MAX + 1);
	size_t o = 0;
	int space = 0;
	for (size_t i = 0; i < len && s[i] && o < ERROR_TEXT_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f) {
			space = o > 0;
			continue;
		}
		if (space && o + 1 < ERROR_TEXT_MAX)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)c;
	}
	out[o] = 0;
	return out;
}

static const char *str_field(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && v->valuestring && *v->valuestring ? v->valuestring : NULL;
}

char *fly_error_text(const char *body, size_t len)
{
	cJSON *doc;
	const char *e, *m;
	char *joined, *out;

	if (!body || !len)
		return xstrdup("");
	doc = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return one_line(body, len);
	}
	e = str_field(doc, "error");
	m = str_field(doc, "message");
	if (!e && !m) {
		cJSON_Delete(doc);
		return one_line(body, len);
	}
	if (e && m && strcmp(e, m))
		joined = xasprintf("%s: %s", e, m);
	else
		joined = xstrdup(e ? e : m);
	cJSON_Delete(doc);
	out = one_line(joined, strlen(joined));
	free(joined);
	return out;
}
