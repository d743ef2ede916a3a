#pragma once
// The `process` provisioner: each instance is a process group of its own, started from its
// product version's recipe (run.process: {command: [...], env: {...}}) with an allocated
// loopback port, a data folder, its config rendered to config.json and the environment, and
// stdout/stderr appended to log files that are rotated past a size. Memory is limited by a
// cgroup (v2, else v1 where writable) or else RLIMIT_AS; OOM kills are read from the cgroup.
// A crashed instance is restarted with exponential back-off; too many restarts in a window is a
// crash loop. State lives in <root>/<id>/state.json, so a restarted Hangar adopts the processes
// still running instead of starting them twice.

#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

#include <sys/types.h>

#include "hangar/fleet/provisioner.hpp"

namespace hangar::fleet {

struct ProcessOptions {
    std::string root;  // <data-dir>/instances
    std::chrono::milliseconds stop_timeout{5000};
    size_t log_max_bytes = 10 << 20;
    int crash_loop_restarts = 5;  // this many crashes within the window is a crash loop
    std::chrono::seconds crash_loop_window{300};
    std::chrono::milliseconds restart_backoff{500};  // after the first crash; doubles, up to 60 s
    std::string extra_path;   // prepended to PATH for instances (the folder of hangar itself)
    std::string backup_root;  // <data-dir>/backups: outlives the instances it holds
    std::chrono::milliseconds backup_timeout{std::chrono::minutes(10)};
};

class ProcessProvisioner final : public Provisioner {
public:
    explicit ProcessProvisioner(ProcessOptions opts);
    std::string_view Name() const override { return "process"; }
    core::Result<Observed> Ensure(const Desired& want) override;
    core::Result<Observed> Observe(const std::string& id) override;
    core::Result<Observed> Destroy(const std::string& id) override;
    core::Result<std::string> Backup(const Desired& want, const std::vector<std::string>& command)
        override;
    core::Result<std::string> Exec(const Desired& want, const std::vector<std::string>& command)
        override;
    std::optional<ProbeResult> Probe(const Desired& want) override;
    const std::string& limit_mode() const { return limit_mode_; }
    std::string LogPath(const std::string& id, std::string_view stream) const override {
        return Dir(id) + "/logs/" + std::string(stream) + ".log";
    }

private:
    struct Proc {
        pid_t pid = 0;
        uint64_t start_ticks = 0;  // guards against a reused pid
        bool child = false;        // started by this Hangar (else adopted)
        int port = 0;
        std::string version;
        int64_t memory_mb = 0;
        int64_t nonce = 0;
        int64_t restarts = 0;
        int64_t oom_kills = 0;
        uint64_t cgroup_ooms = 0;  // the cgroup's own counter when last read
        std::string last_exit;
        bool crashed = false;  // the last exit was not ours
        bool ready = false;    // its health check has passed since it (or Hangar) started
        std::deque<std::chrono::steady_clock::time_point> crashes;
        std::chrono::steady_clock::time_point next_start{};
        std::string cgroup;
        std::map<std::string, int> extra_ports;  // run.process.extra_ports, by name
    };
    Proc& Load(const std::string& id);
    void Save(const std::string& id, const Proc& p);
    void Refresh(const std::string& id, Proc& p);
    core::Result<void> Start(const std::string& id, Proc& p, const Desired& want);
    void Stop(Proc& p) const;
    std::vector<std::string> Environment(
        const std::string& id,
        int port,
        const Desired& want,
        const std::map<std::string, std::string>& vars
    ) const;
    bool ResolveProgram(std::string& program) const;
    std::map<std::string, std::string> Vars(const std::string& id, const Proc& p) const;
    bool Healthy(const Proc& p, const Desired& want);
    void RotateLogs(const std::string& id);
    Observed View(const Proc& p, Observed::State s, std::string message = "") const;
    std::string Dir(const std::string& id) const { return opts_.root + "/" + id; }
    std::string MakeCgroup(const std::string& id, int64_t memory_mb);
    uint64_t CgroupOoms(const std::string& cgroup) const;

    ProcessOptions opts_;
    std::string limit_mode_;  // cgroup2 | cgroup1 | rlimit
    std::string cgroup_base_;
    std::mutex mu_;
    std::map<std::string, Proc> procs_;
};

}  // namespace hangar::fleet
