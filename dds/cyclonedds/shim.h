// Helpers of the cgo binding (package cyclonedds), static so that each
// cgo preamble that includes them has its own copy.
#ifndef TS_SHIM_H
#define TS_SHIM_H
#include <stdlib.h>
#include <string.h>
#include <dds/dds.h>

// ts_descriptor builds a topic descriptor in C memory (its members are
// const, so it is filled by copy). Cyclone copies what it needs when the
// topic is created; the descriptor lives until the domain is closed.
static dds_topic_descriptor_t *ts_descriptor(uint32_t size, uint32_t align, uint32_t flagset,
    const char *typename, const char *keyname, uint32_t keyoff,
    uint32_t nops, const uint32_t *ops, uint32_t nwords) {
  uint32_t *o = malloc(nwords * sizeof *o);
  memcpy(o, ops, nwords * sizeof *o);
  dds_key_descriptor_t *k = NULL;
  uint32_t nkeys = 0;
  if (keyname != NULL) {
    dds_key_descriptor_t kk = { strdup(keyname), keyoff, 0 };
    k = malloc(sizeof *k);
    memcpy(k, &kk, sizeof kk);
    nkeys = 1;
  }
  dds_topic_descriptor_t d = { .m_size = size, .m_align = align, .m_flagset = flagset,
    .m_nkeys = nkeys, .m_typename = strdup(typename), .m_keys = k, .m_nops = nops,
    .m_ops = o, .m_meta = "" };
  dds_topic_descriptor_t *p = malloc(sizeof *p);
  memcpy(p, &d, sizeof d);
  return p;
}

static void ts_free_descriptor(dds_topic_descriptor_t *p) {
  if (p->m_keys != NULL) {
    free((void *) p->m_keys[0].m_name);
    free((void *) p->m_keys);
  }
  free((void *) p->m_typename);
  free((void *) p->m_ops);
  free(p);
}

// ts_qos is ts_ddsconfig's QoS.xml for a topic kind: 0 telemetry,
// 1 event, 2 command, 3 ackcmd.
static dds_qos_t *ts_qos(int kind, int reader) {
  dds_qos_t *q = dds_create_qos();
  dds_qset_reliability(q, DDS_RELIABILITY_RELIABLE, DDS_MSECS(100));
  dds_qset_history(q, DDS_HISTORY_KEEP_LAST, 100);
  dds_qset_durability(q, kind == 1 ? DDS_DURABILITY_TRANSIENT : DDS_DURABILITY_VOLATILE);
  dds_qset_ownership(q, kind == 3 ? DDS_OWNERSHIP_EXCLUSIVE : DDS_OWNERSHIP_SHARED);
  dds_qset_destination_order(q, DDS_DESTINATIONORDER_BY_RECEPTION_TIMESTAMP);
  if (reader) {
    // The bus already delivers a process's own samples to its readers.
    dds_qset_ignorelocal(q, DDS_IGNORELOCAL_PARTICIPANT);
  }
  return q;
}

static dds_qos_t *ts_partition_qos(const char *partition) {
  dds_qos_t *q = dds_create_qos();
  dds_qset_partition1(q, partition);
  return q;
}

static dds_entity_t ts_topic(dds_entity_t pp, const dds_topic_descriptor_t *d, const char *name) {
  return dds_create_topic(pp, d, name, NULL, NULL);
}

static dds_entity_t ts_builtin_reader(dds_entity_t pp, int which) {
  dds_entity_t t = which == 0 ? DDS_BUILTIN_TOPIC_DCPSPUBLICATION : DDS_BUILTIN_TOPIC_DCPSPARTICIPANT;
  return dds_create_reader(pp, t, NULL, NULL);
}

#define TS_MAX 64

// A take buffer: loaned samples and their infos.
typedef struct { void *buf[TS_MAX]; dds_sample_info_t info[TS_MAX]; } ts_take_t;

static int32_t ts_take(dds_entity_t rd, ts_take_t *t) {
  for (int i = 0; i < TS_MAX; i++) t->buf[i] = NULL;
  return dds_take(rd, t->buf, t->info, TS_MAX, TS_MAX);
}
static int ts_valid(ts_take_t *t, int i) { return t->info[i].valid_data; }
static int ts_alive(ts_take_t *t, int i) { return t->info[i].instance_state == DDS_IST_ALIVE; }
static void *ts_sample(ts_take_t *t, int i) { return t->buf[i]; }
static int64_t ts_stamp(ts_take_t *t, int i) { return t->info[i].source_timestamp; }
static dds_return_t ts_return(dds_entity_t rd, ts_take_t *t, int32_t n) { return dds_return_loan(rd, t->buf, n); }

static const char *ts_pub_topic(void *s) { return ((dds_builtintopic_endpoint_t *) s)->topic_name; }
static const char *ts_pub_type(void *s) { return ((dds_builtintopic_endpoint_t *) s)->type_name; }
static int ts_pub_participant_is(void *s, const dds_guid_t *g) {
  return memcmp(&((dds_builtintopic_endpoint_t *) s)->participant_key, g, sizeof *g) == 0;
}
static int ts_participant_is(void *s, const dds_guid_t *g) {
  return memcmp(&((dds_builtintopic_participant_t *) s)->key, g, sizeof *g) == 0;
}
static void ts_participant_key(void *s, unsigned char out[16]) {
  memcpy(out, &((dds_builtintopic_participant_t *) s)->key, 16);
}
// ts_pub_partitions copies a publication's partitions into one
// NUL-separated string the caller frees; *len is its length without the
// last NUL.
static char *ts_pub_partitions(void *s, size_t *len) {
  char **ps = NULL;
  uint32_t n = 0;
  *len = 0;
  if (!dds_qget_partition(((dds_builtintopic_endpoint_t *) s)->qos, &n, &ps) || n == 0) {
    return NULL;
  }
  size_t total = 0;
  for (uint32_t i = 0; i < n; i++) total += strlen(ps[i]) + 1;
  char *out = malloc(total), *p = out;
  for (uint32_t i = 0; i < n; i++) {
    size_t l = strlen(ps[i]) + 1;
    memcpy(p, ps[i], l);
    p += l;
    dds_free(ps[i]);
  }
  dds_free(ps);
  *len = total - 1;
  return out;
}

static uint32_t ts_matched(dds_entity_t wr) {
  dds_publication_matched_status_t st;
  if (dds_get_publication_matched_status(wr, &st) != DDS_RETCODE_OK) return 0;
  return st.current_count;
}
#endif
