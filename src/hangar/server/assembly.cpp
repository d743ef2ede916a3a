#include "hangar/server/assembly.hpp"

#include <atomic>
#include <filesystem>
#include <thread>

#include <fmt/format.h>
#include <sys/stat.h>

#include "hangar/alerting/dispatcher.hpp"
#include "hangar/alerting/kinds.hpp"
#include "hangar/alerting/remediator.hpp"
#include "hangar/alerting/rule_evaluator.hpp"
#include "hangar/alerting/silence_status.hpp"
#include "hangar/api/call.hpp"
#include "hangar/api/probe_metrics.hpp"
#include "hangar/api/routes.hpp"
#include "hangar/api/watch_hub.hpp"
#include "hangar/auth/tokens.hpp"
#include "hangar/billing/billing.hpp"
#include "hangar/billing/kinds.hpp"
#include "hangar/billing/sla_credit.hpp"
#include "hangar/billing/stripe.hpp"
#include "hangar/core/json.hpp"
#include "hangar/core/log.hpp"
#include "hangar/core/metrics.hpp"
#include "hangar/core/periodic.hpp"
#include "hangar/edge/collector.hpp"
#include "hangar/edge/instance_workspaces.hpp"
#include "hangar/edge/keys.hpp"
#include "hangar/edge/kinds.hpp"
#include "hangar/edge/push.hpp"
#include "hangar/edge/routes.hpp"
#include "hangar/edge/workspaces.hpp"
#include "hangar/fleet/billing_hold.hpp"
#include "hangar/fleet/instance_controller.hpp"
#include "hangar/fleet/kinds.hpp"
#include "hangar/fleet/process_provisioner.hpp"
#include "hangar/fleet/rollout_controller.hpp"
#include "hangar/fleet/simulated.hpp"
#include "hangar/fleet/usage_reporter.hpp"
#include "hangar/http/server.hpp"
#include "hangar/identity/kinds.hpp"
#include "hangar/incidents/incidents.hpp"
#include "hangar/incidents/kinds.hpp"
#include "hangar/marketplace/catalogue.hpp"
#include "hangar/marketplace/kinds.hpp"
#include "hangar/marketplace/requests.hpp"
#include "hangar/marketplace/routes.hpp"
#include "hangar/metering/entitlements.hpp"
#include "hangar/metering/kinds.hpp"
#include "hangar/metering/metering.hpp"
#include "hangar/metering/routes.hpp"
#include "hangar/metrics/housekeeper.hpp"
#include "hangar/metrics/remote_write_sender.hpp"
#include "hangar/metrics/tsdb.hpp"
#include "hangar/observe/kinds.hpp"
#include "hangar/observe/sla.hpp"
#include "hangar/observe/slo.hpp"
#include "hangar/oncall/kinds.hpp"
#include "hangar/oncall/notifier.hpp"
#include "hangar/oncall/pager.hpp"
#include "hangar/reconcile/controller.hpp"
#include "hangar/store/store.hpp"

namespace hangar::server {

namespace fs = std::filesystem;
using core::Fail;

// In construction order: each part may use the ones above it. Destruction runs the other way.
struct Assembly::Parts {
    Config cfg;
    std::string public_url;
    core::SystemClock clock;
    core::MetricsRegistry metrics;
    std::unique_ptr<store::Store> store;
    std::unique_ptr<auth::TokenService> tokens;
    std::unique_ptr<api::WatchHub> hub;
    registry::Registry kinds;
    std::unique_ptr<fleet::Provisioner> provisioner;
    std::unique_ptr<fleet::InstanceController> instances;
    std::unique_ptr<reconcile::Controller> instance_loop;
    std::unique_ptr<fleet::RolloutController> rollouts;
    std::unique_ptr<reconcile::Controller> rollout_loop;
    std::unique_ptr<alerting::SilenceStatusWriter> silences;
    std::unique_ptr<reconcile::Controller> silence_loop;
    std::unique_ptr<metrics::Tsdb> tsdb;
    std::unique_ptr<metrics::RemoteWriteSender> forward;
    std::unique_ptr<metrics::Housekeeper> housekeeper;
    std::unique_ptr<observe::SloEvaluator> slos;
    std::unique_ptr<oncall::Notifier> notifier;
    std::unique_ptr<oncall::Pager> pager;
    std::unique_ptr<incidents::Incidents> incidents;
    std::unique_ptr<alerting::Dispatcher> dispatcher;
    std::unique_ptr<alerting::Remediator> remediator;
    std::unique_ptr<alerting::RuleEvaluator> rules;
    std::unique_ptr<edge::CloudKeys> keys;
    std::unique_ptr<edge::Workspaces> workspaces;
    std::unique_ptr<edge::InstanceWorkspaces> instance_workspaces;
    std::unique_ptr<edge::Collector> collector;
    std::unique_ptr<core::Periodic> statistics_sweep;
    std::unique_ptr<core::RateLimiter> public_limiter;
    std::unique_ptr<edge::PushGateway> push;
    std::unique_ptr<edge::EdgeDeps> edge_deps;
    std::unique_ptr<marketplace::Catalogue> catalogue;
    std::unique_ptr<marketplace::AppRequests> app_requests;
    std::unique_ptr<metering::Metering> metering;
    std::unique_ptr<fleet::UsageReporter> usage_reporter;
    std::unique_ptr<metering::MeteringDeps> metering_deps;
    std::unique_ptr<metering::Entitlements> entitlements;
    std::unique_ptr<billing::PaymentProvider> payments;
    std::unique_ptr<billing::Billing> billing;
    std::unique_ptr<core::RateLimiter> limiter;
    std::unique_ptr<api::Deps> deps;
    http::Router router;
    http::Router collector_router;
    http::Router marketplace_router;
    std::atomic<bool> ready{false};
    http::Server* server = nullptr;
    Runtime runtime;  // last: stopped before anything it runs is destroyed
};

namespace {

// Every tenant's data is in the folder: nobody but this user reads it, whatever the umask was.
// (Instances get the usual 022 back before exec.)
core::Result<void> PrepareDataDir(const std::string& dir) {
    ::umask(077);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return Fail(core::MakeError(
            core::ErrorCode::kInvalidArgument,
            fmt::format("cannot create --data-dir {}: {}", dir, ec.message())
        ));
    }
    fs::permissions(dir, fs::perms::owner_all, ec);
    for (const char* f :
         {"hangar.db",
          "hangar.db-wal",
          "hangar.db-shm",
          "usage.db",
          "usage.db-wal",
          "usage.db-shm",
          "admin-token",
          "master-key"}) {
        fs::path p = fs::path(dir) / f;
        if (fs::exists(p, ec)) {  // made by an older Hangar with the umask's modes
            fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write, ec);
        }
    }
    return {};
}

std::unique_ptr<fleet::Provisioner> MakeProvisioner(const Config& cfg) {
    if (cfg.provisioner == "simulated") {
        return std::make_unique<fleet::SimulatedProvisioner>(fleet::SimulatedOptions{
            cfg.sim_latency, 0, 1000000});
    }
    fleet::ProcessOptions popts;
    popts.root = (fs::path(cfg.data_dir) / "instances").string();
    popts.backup_root = (fs::path(cfg.data_dir) / "backups").string();
    // Sample products (hangar-workspace) are installed beside the hangar binary.
    popts.extra_path = fs::canonical("/proc/self/exe").parent_path().string();
    popts.restart_backoff = cfg.restart_backoff;
    return std::make_unique<fleet::ProcessProvisioner>(popts);
}

}  // namespace

Assembly::Assembly(std::unique_ptr<Parts> parts) : p_(std::move(parts)) {}
Assembly::~Assembly() = default;

const registry::Registry& Assembly::kinds() const {
    return p_->kinds;
}
http::Router& Assembly::router() {
    return p_->router;
}

core::Result<std::unique_ptr<Assembly>> Assembly::Build(const Config& cfg) {
    auto p = std::make_unique<Parts>();
    Parts& a = *p;
    a.cfg = cfg;
    if (auto ok = PrepareDataDir(cfg.data_dir); !ok) {
        return Fail(ok.error());
    }
    // Absolute: instances run in folders of their own, and their backup commands are handed
    // paths under it (`--data-dir demo-data` once made every backup fail from inside them).
    std::error_code ec;
    a.cfg.data_dir = fs::absolute(cfg.data_dir, ec).lexically_normal().string();
    if (ec) {
        a.cfg.data_dir = cfg.data_dir;
    }
    a.public_url = cfg.public_url.empty() ? "http://" + cfg.listen : cfg.public_url;
    while (a.public_url.ends_with('/')) {
        a.public_url.pop_back();
    }

    // The store, its tokens and its watchers.
    std::string url = cfg.store.empty()
                          ? "sqlite:" + (fs::path(a.cfg.data_dir) / "hangar.db").string()
                          : cfg.store;
    store::StoreOptions stopts;
    stopts.changelog_keep = cfg.changelog_keep;
    stopts.compact_every = std::clamp<int64_t>(cfg.changelog_keep / 10, 1, 1024);
    stopts.readers = std::max<size_t>(4, std::min<size_t>(cfg.workers, 16));
    auto st = store::Store::Open(url, stopts);
    if (!st) {
        return Fail(st.error());
    }
    a.store = std::move(*st);
    store::Store& store = *a.store;
    auto& store_seconds = a.metrics.Histogram(
        "hangar_store_operation_duration_seconds",
        "Store operations by kind of operation.",
        {"op"},
        core::LatencyBuckets()
    );
    store.SetTimer([&store_seconds](std::string_view op, double s) {
        store_seconds.Observe({std::string(op)}, s);
    });
    a.tokens = std::make_unique<auth::TokenService>(store, a.clock);
    std::string admin_path = (fs::path(a.cfg.data_dir) / "admin-token").string();
    const char* bootstrap = std::getenv("HANGAR_BOOTSTRAP_TOKEN");  // NOLINT(concurrency-mt-unsafe)
    auto boot = a.tokens->Bootstrap(bootstrap != nullptr ? bootstrap : "", admin_path);
    if (!boot) {
        return Fail(core::MakeError(boot.error().code, "bootstrap: " + boot.error().message));
    }
    core::LogInfo(*boot);
    a.hub = std::make_unique<api::WatchHub>(store);
    store.OnCommitted([hub = a.hub.get()] { hub->Wake(); });

    // The workspace cloud's master key: the edge's kinds seal credentials with it.
    std::string key_path = cfg.master_key_file.empty()
                               ? (fs::path(a.cfg.data_dir) / "master-key").string()
                               : cfg.master_key_file;
    if (cfg.master_key_file.empty()) {
        core::LogWarn(
            "the master key lives beside the data: a copy of the data folder (a backup) then "
            "carries the key that opens its secrets; keep it elsewhere with --master-key-file",
            {{"master_key", std::string_view(key_path)}}
        );
    }
    auto keys = edge::CloudKeys::LoadOrCreate(key_path);
    if (!keys) {
        return Fail(core::MakeError(keys.error().code, "--master-key-file: " + keys.error().message)
        );
    }
    a.keys = std::make_unique<edge::CloudKeys>(std::move(*keys));

    // Each module registers the kinds it owns.
    identity::RegisterKinds(a.kinds, store, *a.tokens);
    fleet::RegisterKinds(a.kinds, store, {{"workspace", edge::ValidateProductWorkspace}});
    observe::RegisterKinds(a.kinds);
    alerting::RegisterKinds(a.kinds);
    oncall::RegisterKinds(a.kinds);
    incidents::RegisterKinds(a.kinds);
    edge::RegisterKinds(a.kinds, *a.keys);
    marketplace::RegisterKinds(a.kinds);
    metering::RegisterKinds(a.kinds);
    billing::RegisterKinds(a.kinds, store);

    // The fleet's controllers.
    a.provisioner = MakeProvisioner(a.cfg);
    auto& oom_kills = a.metrics.Counter(
        "hangar_instance_oom_kills_total",
        "Instances killed at their memory limit.",
        {"tenant", "instance", "product"}
    );
    auto& phases = a.metrics.Gauge(
        "hangar_instances", "Instances by the phase their controller last saw.", {"phase"}
    );
    auto& reconciles = a.metrics.Counter(
        "hangar_reconciles_total",
        "Reconcile calls by controller and result (ok, error).",
        {"controller", "result"}
    );
    a.instances = std::make_unique<fleet::InstanceController>(
        store, *a.provisioner, a.clock, &oom_kills, &phases
    );
    a.instance_loop = std::make_unique<reconcile::Controller>(
        store,
        reconcile::ControllerOptions{
            "instance", cfg.controller_workers, cfg.resync, {"Instance"}, &reconciles},
        [c = a.instances.get()](const std::string& id) { return c->Reconcile(id); },
        [c = a.instances.get()] { return c->List(); }
    );
    a.rollouts = std::make_unique<fleet::RolloutController>(store, a.clock);
    a.rollout_loop = std::make_unique<reconcile::Controller>(
        store,
        reconcile::ControllerOptions{"rollout", 2, cfg.resync, {"Rollout"}, &reconciles},
        [c = a.rollouts.get()](const std::string& id) { return c->Reconcile(id); },
        [c = a.rollouts.get()] { return c->List(); }
    );
    a.silences = std::make_unique<alerting::SilenceStatusWriter>(store, a.clock);
    a.silence_loop = std::make_unique<reconcile::Controller>(
        store,
        reconcile::ControllerOptions{"silence", 1, cfg.resync, {"Silence"}, &reconciles},
        [c = a.silences.get()](const std::string& id) { return c->Reconcile(id); },
        [&store] { return reconcile::ListKind(store, "Silence"); }
    );
    store.OnCommitted(
        [i = a.instance_loop.get(), r = a.rollout_loop.get(), s = a.silence_loop.get()] {
            i->Wake();
            r->Wake();
            s->Wake();
        }
    );

    // The metrics store.
    metrics::TsdbOptions mopts;
    mopts.dir = (fs::path(a.cfg.data_dir) / "metrics").string();
    mopts.retention_ms = cfg.metrics_retention.count();
    mopts.rollup_retention_ms = cfg.metrics_rollup_retention.count();
    mopts.max_series_per_tenant = cfg.metrics_max_series;
    auto tsdb = metrics::Tsdb::Open(mopts);
    if (!tsdb) {
        return Fail(core::MakeError(tsdb.error().code, "metrics store: " + tsdb.error().message));
    }
    a.tsdb = std::move(*tsdb);
    if (!cfg.remote_write_url.empty()) {
        a.forward = std::make_unique<metrics::RemoteWriteSender>(metrics::RemoteWriteOptions{
            .url = cfg.remote_write_url, .bearer_token = cfg.remote_write_token});
        a.tsdb->SetAppendObserver([s = a.forward.get()](
                                      std::string_view tenant,
                                      std::span<const metrics::LabelView> l,
                                      std::span<const metrics::Sample> v
                                  ) { s->Enqueue(tenant, l, v); });
    }
    a.housekeeper = std::make_unique<metrics::Housekeeper>(
        *a.tsdb, a.metrics, a.clock, cfg.self_scrape, cfg.listen
    );
    a.instances->SetProbeSink(api::ProbeMetricsSink(*a.tsdb));
    a.slos = std::make_unique<observe::SloEvaluator>(store, *a.tsdb, a.clock, cfg.slo_interval);

    // Alerting, on-call and incidents.
    a.notifier = std::make_unique<oncall::Notifier>(
        oncall::NotifierOptions{.smtp_url = cfg.smtp_url, .smtp_from = cfg.smtp_from}, &a.metrics
    );
    a.pager = std::make_unique<oncall::Pager>(store, *a.notifier, a.clock, a.public_url);
    a.incidents =
        std::make_unique<incidents::Incidents>(store, a.tsdb.get(), a.clock, cfg.operator_tenant);
    a.pager->SetOnOpened([inc = a.incidents.get()](const store::Object& page) {
        inc->DeclareFromPage(page);
    });
    a.notifier->SetOutcome([pager = a.pager.get()](
                               const oncall::Message& m, bool ok, const std::string& detail
                           ) { pager->RecordOutcome(m, ok, detail); });
    a.pager->Load();
    a.dispatcher = std::make_unique<alerting::Dispatcher>(
        store,
        *a.pager,
        *a.notifier,
        a.clock,
        alerting::DispatcherOptions{.operator_tenant = cfg.operator_tenant}
    );
    a.remediator = std::make_unique<alerting::Remediator>(
        store,
        a.clock,
        [i = a.instances.get(), prov = a.provisioner.get()](
            const store::Object& ins, const std::vector<std::string>& argv
        ) { return prov->Exec(i->DesiredFor(ins), argv); }
    );
    a.dispatcher->SetRemediator(a.remediator.get());
    a.rules = std::make_unique<alerting::RuleEvaluator>(
        store,
        *a.tsdb,
        a.clock,
        cfg.rule_interval,
        [d = a.dispatcher.get()](std::vector<alerting::Alert> alerts) {
            d->Receive(std::move(alerts));
        }
    );
    a.rules->SetMetrics(a.metrics);

    // The workspace cloud services.
    edge::WorkspaceOptions wopts;
    wopts.base_url = a.public_url;
    wopts.access_token_ttl =
        std::chrono::duration_cast<std::chrono::seconds>(cfg.workspace_token_ttl);
    wopts.secret_ttl = std::chrono::duration_cast<std::chrono::seconds>(cfg.workspace_secret_ttl);
    a.workspaces = std::make_unique<edge::Workspaces>(store, *a.keys, a.clock, wopts);
    a.workspaces->SetOnSync([&clock = a.clock, db = a.tsdb.get()](const store::Object& ws) {
        edge::RecordWorkspaceSeries(*db, ws, core::UnixMillis(clock.Now()));
    });
    // Instances of products with a "workspace" block get a Workspace and start registered-to-be.
    a.instance_workspaces =
        std::make_unique<edge::InstanceWorkspaces>(store, *a.workspaces, a.clock);
    a.instances->SetHooks(fleet::InstanceController::Hooks{
        .prepare = [iw = a.instance_workspaces.get(
                    )](const store::Object& ins, fleet::Desired& want) -> core::Result<void> {
            if (!want.workspace) {
                return {};
            }
            auto env = iw->Prepare(ins, *want.workspace);
            if (!env) {
                return Fail(env.error());
            }
            want.env = std::move(*env);
            return {};
        },
        .release = [iw = a.instance_workspaces.get()](const store::Object& ins
                   ) { return iw->Release(ins); },
    });
    a.collector = std::make_unique<edge::Collector>(
        store,
        *a.keys,
        a.clock,
        a.tsdb.get(),
        edge::CollectorOptions{
            .retention = std::chrono::duration_cast<std::chrono::seconds>(cfg.statistics_retention),
            .max_document = cfg.body_limit}
    );
    a.statistics_sweep =
        std::make_unique<core::Periodic>(std::chrono::hours(1), [c = a.collector.get()] {
            if (size_t n = c->Sweep(); n > 0) {
                core::LogInfo("statistics retention", {{"deleted", static_cast<int64_t>(n)}});
            }
        });
    a.public_limiter = std::make_unique<core::RateLimiter>(cfg.public_rate, cfg.public_rate * 2);
    a.push = std::make_unique<edge::PushGateway>(
        store,
        *a.workspaces,
        *a.keys,
        a.clock,
        &a.metrics,
        a.tsdb.get(),
        edge::PushOptions{
            .apns_url = cfg.apns_url,
            .fcm_url = cfg.fcm_url,
            .ca_file = cfg.push_ca_file,
            .deadline = cfg.push_deadline,
            .rate = cfg.push_rate,
            .operator_tenant = cfg.operator_tenant}
    );
    a.edge_deps = std::make_unique<edge::EdgeDeps>(edge::EdgeDeps{
        *a.workspaces, *a.collector, a.public_limiter.get(), a.push.get(), a.tokens.get()});

    // Metering: a usage database of its own beside the store's file.
    a.metering = std::make_unique<metering::Metering>(
        store,
        a.clock,
        (fs::path(a.cfg.data_dir) / "usage.db").string(),
        std::chrono::duration_cast<std::chrono::seconds>(cfg.usage_retention)
    );
    store.OnCommitted([m = a.metering.get()] { m->Invalidate(); });
    // Hangar's own usage, metered without glue.
    a.push->SetUsageSink(*a.metering);
    a.collector->SetUsageSink(*a.metering);
    a.usage_reporter = std::make_unique<fleet::UsageReporter>(store, a.clock, *a.metering);
    a.metering_deps = std::make_unique<metering::MeteringDeps>(metering::MeteringDeps{
        *a.metering, *a.tokens, *a.workspaces});
    // A tenant's plan entitlements apply through its plan (the Tenant's spec.plan).
    a.entitlements =
        std::make_unique<metering::Entitlements>(*a.metering, [&store](const std::string& tenant) {
            auto t = store.Get(tenant);
            return t && t->kind == "Tenant" ? core::StrAt(t->spec, "plan") : std::string();
        });
    store.OnCommitted([e = a.entitlements.get()] { e->Invalidate(); });
    a.push->SetEntitlementGate(*a.entitlements);

    // Billing: subscriptions and invoices over metering's usage, the month's SLA report and
    // the fleet's instances, collected through Stripe when it is configured.
    a.billing = std::make_unique<billing::Billing>(
        store,
        a.clock,
        billing::BillingHooks{
            .usage =
                [m = a.metering.get()](
                    const std::string& tenant, const std::string& meter, int64_t from, int64_t to
                ) -> core::Result<billing::Decimal> {
                auto def = m->Find(meter);
                if (!def) {
                    return core::Fail(core::MakeError(
                        core::ErrorCode::kNotFound, fmt::format("meter {} does not exist", meter)
                    ));
                }
                auto d = billing::Decimal::FromDouble(m->Total(*def, tenant, from, to));
                return d ? d->Round(6) : billing::Decimal();
            },
            .sla = [&a, &store](const std::string& tenant, const std::string& month)
                -> core::Result<std::optional<billing::SlaCredit>> {
                auto report = observe::SlaReport(
                    store, *a.tsdb, tenant, month, core::UnixMillis(a.clock.Now())
                );
                if (!report) {
                    return std::optional<billing::SlaCredit>{};
                }
                return billing::CreditFromSlaReport(store, tenant, month, *report);
            },
            .suspend = [&store](
                           const std::string& tenant, bool hold, const store::AuditEvent& audit
                       ) { return fleet::SetBillingHold(store, tenant, hold, audit); },
            .notify =
                [&a, &store](
                    const std::string& tenant, const std::string& subject, const std::string& text
                ) {
                    auto t = store.Get(tenant);
                    std::string to = t ? core::StrAt(t->spec, "contact_email") : "";
                    if (to.empty()) {
                        core::LogWarn(
                            "a billing e-mail has no recipient",
                            {{"tenant", std::string_view(tenant)},
                             {"subject", std::string_view(subject)}}
                        );
                        return;
                    }
                    oncall::Message msg;
                    msg.channel = oncall::Message::Channel::kEmail;
                    msg.target = to;
                    msg.subject = subject;
                    msg.text = text;
                    a.notifier->Enqueue(std::move(msg));
                }},
        billing::BillingOptions{
            .approval = cfg.invoice_issue == "approval",
            .grace = std::chrono::duration_cast<std::chrono::seconds>(cfg.payment_grace),
            .interval = std::chrono::duration_cast<std::chrono::seconds>(cfg.billing_interval)}
    );
    if (!cfg.stripe_secret_key.empty()) {
        a.payments = billing::MakeStripeProvider(billing::StripeOptions{
            .api_base = cfg.stripe_api_url,
            .secret_key = cfg.stripe_secret_key,
            .webhook_secret = cfg.stripe_webhook_secret});
        a.billing->SetPayments(a.payments.get());
    }

    // The API.
    a.catalogue = std::make_unique<marketplace::Catalogue>(store, a.clock);
    store.OnCommitted([c = a.catalogue.get()] { c->Invalidate(); });
    a.catalogue->SetUsageSink(*a.metering);
    a.catalogue->SetEntitlementGate(*a.entitlements);
    a.app_requests = std::make_unique<marketplace::AppRequests>(store, a.clock);
    a.limiter = std::make_unique<core::RateLimiter>(cfg.tenant_rate, cfg.tenant_rate * 2);
    a.deps = std::make_unique<api::Deps>(api::Deps{store, *a.tokens, a.clock, a.limiter.get()});
    // Before the API's generic /v1/entitlements/{id}: /v1/entitlements/check is metering's.
    metering::AddEntitlementRoutes(a.router, *a.metering_deps, *a.entitlements);
    api::AddAllRoutes(
        a.router,
        *a.deps,
        api::Services{
            .provisioner = *a.provisioner,
            .tsdb = *a.tsdb,
            .alerts = *a.dispatcher,
            .pager = *a.pager,
            .remediator = *a.remediator,
            .incidents = *a.incidents,
            .workspaces = *a.workspaces,
            .collector = *a.collector,
            .catalogue = *a.catalogue,
            .billing = *a.billing,
            .query_timeout = cfg.query_timeout},
        a.kinds,
        *a.hub,
        a.metrics,
        [&a] { return a.ready.load() && a.server != nullptr && !a.server->Draining(); }
    );
    edge::AddWorkspaceCloudRoutes(a.router, *a.edge_deps);
    edge::AddCollectorRootRoute(a.collector_router, *a.edge_deps);
    // Usage: OpenMeter's API over the usage database beside the store.
    metering::AddMeteringRoutes(a.router, *a.metering_deps);
    // The marketplace: under /marketplace here (its /v1 paths are Hangar's API's), and at the
    // root of its own listener for servers pointed at it (OVERWRITE_INTERNAL_MARKETPLACE_URL).
    marketplace::AddMarketplaceRoutes(
        a.router, *a.catalogue, *a.app_requests, *a.workspaces, "/marketplace"
    );
    marketplace::AddMarketplaceRoutes(
        a.marketplace_router, *a.catalogue, *a.app_requests, *a.workspaces, ""
    );

    // Started in this order, stopped in the reverse: each after what it feeds on.
    Runtime& rt = a.runtime;
    rt.Add("watch hub", *a.hub);
    rt.Add("metering", *a.metering);
    rt.Add("usage reporter", *a.usage_reporter);
    rt.Add("billing", *a.billing);
    rt.Add("statistics sweep", *a.statistics_sweep);
    rt.Add("collector", *a.collector);
    rt.Add("push gateway", *a.push);
    if (a.forward) {
        rt.Add("remote write", *a.forward);
    }
    rt.Add("instance controller", *a.instance_loop);
    rt.Add("rollout controller", *a.rollout_loop);  // each finishes the step it is in
    rt.Add("silence controller", *a.silence_loop);
    rt.Add("housekeeper", *a.housekeeper);
    rt.Add("slo evaluator", *a.slos);
    rt.Add("notifier", *a.notifier);
    rt.Add("remediator", *a.remediator);
    rt.Add("dispatcher", *a.dispatcher);
    rt.Add("rule evaluator", *a.rules);
    return std::unique_ptr<Assembly>(new Assembly(std::move(p)));
}

int Assembly::Run() {
    Parts& a = *p_;
    const Config& cfg = a.cfg;
    http::ServerOptions sopts;
    sopts.listen = cfg.listen;
    sopts.workers = cfg.workers;
    sopts.io_threads = cfg.io_threads;
    sopts.body_limit = cfg.body_limit;
    sopts.max_connections_per_address = cfg.max_connections_per_address;
    sopts.header_timeout = cfg.header_timeout;
    sopts.idle_timeout = cfg.idle_timeout;
    sopts.drain_timeout = cfg.drain_timeout;
    sopts.request_timeout = cfg.request_timeout;
    http::Server server(sopts, a.router, a.metrics);
    a.server = &server;
    if (auto b = server.Bind(); !b) {
        fmt::print(stderr, "hangar serve: {}\n", b.error().message);
        return 2;
    }
    if (cfg.public_url.empty()) {
        a.workspaces->SetBaseUrl(
            fmt::format("http://{}:{}", cfg.listen.substr(0, cfg.listen.rfind(':')), server.port())
        );
    }
    // The collector on a listener of its own, for servers whose collector URL is a bare host.
    std::unique_ptr<http::Server> collector_server;
    std::thread collector_thread;
    if (!cfg.collector_listen.empty()) {
        http::ServerOptions copts = sopts;
        copts.listen = cfg.collector_listen;
        copts.io_threads = 1;
        collector_server = std::make_unique<http::Server>(copts, a.collector_router, a.metrics);
        if (auto b = collector_server->Bind(); !b) {
            fmt::print(stderr, "hangar serve: --collector-listen: {}\n", b.error().message);
            return 2;
        }
        core::LogInfo(
            "collector listening",
            {{"address", std::string_view(cfg.collector_listen)},
             {"port", static_cast<int64_t>(collector_server->port())}}
        );
        collector_thread = std::thread([&collector_server] { collector_server->Run(); });
    }
    // The marketplace on a listener of its own: a stock server's marketplace URL has no path.
    std::unique_ptr<http::Server> marketplace_server;
    std::thread marketplace_thread;
    if (!cfg.marketplace_listen.empty()) {
        http::ServerOptions mopts = sopts;
        mopts.listen = cfg.marketplace_listen;
        mopts.io_threads = 1;
        marketplace_server = std::make_unique<http::Server>(mopts, a.marketplace_router, a.metrics);
        if (auto b = marketplace_server->Bind(); !b) {
            fmt::print(stderr, "hangar serve: --marketplace-listen: {}\n", b.error().message);
            return 2;
        }
        core::LogInfo(
            "marketplace listening",
            {{"address", std::string_view(cfg.marketplace_listen)},
             {"port", static_cast<int64_t>(marketplace_server->port())}}
        );
        marketplace_thread = std::thread([&marketplace_server] { marketplace_server->Run(); });
    }
    a.push->RunOn(server.io_context());
    a.runtime.Start();
    a.ready = true;
    core::LogInfo(
        "listening",
        {{"address", std::string_view(cfg.listen)},
         {"port", static_cast<int64_t>(server.port())},
         {"store", a.store->BackendName()},
         {"data_dir", std::string_view(cfg.data_dir)}}
    );
    core::LogLevel level{};
    core::ParseLogLevel(cfg.log_level, level);
    core::SetLogLevel(level);
    server.Run();
    if (collector_server) {
        collector_server->Stop();
        collector_thread.join();
    }
    if (marketplace_server) {
        marketplace_server->Stop();
        marketplace_thread.join();
    }
    a.runtime.Stop();
    a.server = nullptr;
    core::LogInfo("stopped");
    return 0;
}

}  // namespace hangar::server
