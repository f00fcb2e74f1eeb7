/*
 * qemu_insn_profile: a QEMU TCG plugin (plugin API version 1, QEMU 7.2) that counts, per guest
 * instruction address, how many times the instruction ran inside a window opened by executing
 * the instruction at `begin=ADDR` and closed by the one at `end=ADDR` (the same window as the
 * instruction counter of `tools/aarch64_insns.sh`: counted from after `begin`, up to and
 * including `end`; the sum over all windows).
 *
 *   qemu-aarch64 -plugin ./libqemu_insn_profile.so,begin=0x...,end=0x... -d plugin -D out.txt BIN
 *
 * At exit it writes one line `ADDR COUNT` (hex address, decimal count) per instruction that ran in
 * the window, then `insns_window TOTAL (windows closed: N)`. `tools/aarch64_profile.sh` maps the
 * addresses to functions with `nm`. One vCPU (user mode, one thread) is assumed.
 *
 * The few plugin-API entry points used are declared here, following the documented v1 API, so
 * no QEMU header is needed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXPORT __attribute__((visibility("default")))
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t; /* not read */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
typedef void (*vcpu_udata_cb)(unsigned int vcpu_index, void *userdata);
typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*udata_cb)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, vcpu_udata_cb cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_outs(const char *string);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb cb, void *userdata);

EXPORT int qemu_plugin_version = 1;

/* One record per instruction address, found again when a block is translated anew; records
 * never move (they are allocated one by one), so a callback can keep a pointer to its own. */
struct record {
    uint64_t pc;
    uint64_t count;
    struct record *next; /* hash chain */
};

#define BUCKETS (1u << 16)
static struct record *table[BUCKETS];
static uint64_t begin_addr = UINT64_MAX, end_addr = UINT64_MAX;
static bool active;
static uint64_t window;
static unsigned n_windows;

static struct record *record_for(uint64_t pc)
{
    unsigned h = (unsigned)((pc >> 2) * 0x9E3779B1u) >> 16;
    for (struct record *r = table[h]; r; r = r->next)
        if (r->pc == pc) return r;
    struct record *r = calloc(1, sizeof *r);
    if (!r) {
        fprintf(stderr, "qemu_insn_profile: out of memory\n");
        exit(1);
    }
    r->pc = pc;
    r->next = table[h];
    table[h] = r;
    return r;
}

/* Runs before every instruction: counts it if the window is open, then opens or closes the
 * window at the markers (so `begin` itself is not counted and `end` is). */
static void on_insn(unsigned int vcpu, void *ud)
{
    (void)vcpu;
    struct record *r = ud;
    if (active) {
        r->count++;
        window++;
    }
    if (r->pc == begin_addr && !active) {
        active = true;
    } else if (r->pc == end_addr && active) {
        active = false;
        n_windows++;
    }
}

static void on_tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        struct record *r = record_for(qemu_plugin_insn_vaddr(insn));
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_insn, QEMU_PLUGIN_CB_NO_REGS, r);
    }
}

static void plugin_exit(qemu_plugin_id_t id, void *ud)
{
    (void)id;
    (void)ud;
    char buf[128];
    for (unsigned h = 0; h < BUCKETS; h++) {
        for (struct record *r = table[h]; r; r = r->next) {
            if (!r->count) continue;
            snprintf(buf, sizeof buf, "%llx %llu\n", (unsigned long long)r->pc,
                     (unsigned long long)r->count);
            qemu_plugin_outs(buf);
        }
    }
    snprintf(buf, sizeof buf, "insns_window %llu (windows closed: %u)\n",
             (unsigned long long)window, n_windows);
    qemu_plugin_outs(buf);
}

EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        if (!strncmp(argv[i], "begin=", 6)) {
            begin_addr = strtoull(argv[i] + 6, NULL, 0);
        } else if (!strncmp(argv[i], "end=", 4)) {
            end_addr = strtoull(argv[i] + 4, NULL, 0);
        } else {
            fprintf(stderr, "qemu_insn_profile: unknown argument %s\n", argv[i]);
            return -1;
        }
    }
    if (begin_addr == UINT64_MAX || end_addr == UINT64_MAX) {
        fprintf(stderr, "qemu_insn_profile: needs begin=ADDR and end=ADDR\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb_trans);
    qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
    return 0;
}
