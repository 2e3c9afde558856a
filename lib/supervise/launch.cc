#include "lib/supervise/launch.h"

#include <map>

#include "lib/log/output_reader.h"
#include "lib/proc/process_settings.h"

namespace supd {
namespace {

// systemd's default PATH for services (with /sbin:/bin for hosts without merged /usr).
constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const std::vector<ExecCommand>& CommandsOf(const ServiceSpec& spec, CommandList list) {
  switch (list) {
    case CommandList::kCondition: return spec.exec_condition;
    case CommandList::kStartPre: return spec.exec_start_pre;
    case CommandList::kStart: return spec.exec_start;
    case CommandList::kStartPost: return spec.exec_start_post;
    case CommandList::kReload: return spec.exec_reload;
    case CommandList::kStop: return spec.exec_stop;
    case CommandList::kStopPost: return spec.exec_stop_post;
  }
  return spec.exec_start;
}

void AddEnv(const std::string& k, const std::string& v, EnvList* env,
            std::vector<std::string>* envv) {
  env->emplace_back(k, v);
  envv->push_back(k + "=" + v);
}

// User=, Group=, the supplementary groups: into the plan, unless the command keeps supd's
// identity ('+' and '!', systemd's "full privileges" and "no setuid").
Result<void> PlanIdentity(const LaunchInput& in, const ExecCommand& cmd, SpawnPlan* plan) {
  const ServiceSpec& spec = *in.spec;
  const PreparedInstance& p = *in.prepared;
  const bool wants = p.user || !spec.group.empty() || !spec.exec.supplementary_groups.empty();
  if (cmd.full_privileges || cmd.no_setuid || !wants) return Ok();
  uid_t uid = p.user ? p.user->uid : in.euid;
  gid_t gid = p.user ? p.user->gid : in.egid;
  if (!spec.group.empty()) {
    if (!p.group) return Error{"Group=" + spec.group + ": " + p.error};
    gid = *p.group;
  }
  // Unprivileged supd running a unit with its own User=: nothing to switch.
  if (uid != in.euid || gid != in.egid || in.euid == 0) {
    plan->uid = uid;
    plan->gid = gid;
  }
  if (p.groups) plan->groups = *p.groups;
  return Ok();
}

}  // namespace

PreparedInstance PrepareInstance(const ServiceSpec& spec, uid_t euid) {
  PreparedInstance p;
  p.conditions = EvaluateConditions(spec);
  if (!p.conditions.start) return p;
  auto fail = [&p](std::string e) {
    if (p.error.empty()) p.error = std::move(e);
  };
  if (!spec.user.empty()) {
    auto u = LookupUser(spec.user);
    if (u.ok()) {
      p.user = *u;
    } else {
      fail("User=" + spec.user + ": " + u.error().message);
    }
  }
  auto env = ResolveUnitEnvironment(spec);
  if (env.ok()) {
    p.unit_env = std::move(*env);
  } else {
    fail(env.error().message);
  }
  if (!p.error.empty()) return p;
  if (!spec.group.empty()) {
    auto g = LookupGroup(spec.group);
    if (!g.ok()) {
      fail("Group=" + spec.group + ": " + g.error().message);
      return p;
    }
    p.group = *g;
  }
  const auto& extra = spec.exec.supplementary_groups;
  const bool identity = p.user || !spec.group.empty() || !extra.empty();
  // Root sets the groups of User= (none without it) plus SupplementaryGroups=; an unprivileged
  // supd only tries when SupplementaryGroups= asks, and then fails loudly.
  if (identity && (euid == 0 || !extra.empty())) {
    auto groups = PlanSupplementaryGroups(p.user && euid == 0 ? &*p.user : nullptr, extra);
    if (!groups.ok()) {
      fail(groups.error().message);
      return p;
    }
    p.groups = std::move(*groups);
  }
  return p;
}

EnvList BuildEnvironment(const std::string& invocation_id, const PreparedInstance& prepared) {
  EnvList pairs{{"PATH", kDefaultPath}, {"INVOCATION_ID", invocation_id}};
  if (prepared.user) {
    pairs.emplace_back("HOME", prepared.user->home);
    pairs.emplace_back("USER", prepared.user->name);
    pairs.emplace_back("LOGNAME", prepared.user->name);
    pairs.emplace_back("SHELL", prepared.user->shell);
  }
  pairs.insert(pairs.end(), prepared.unit_env.begin(), prepared.unit_env.end());
  // Later assignments win; each name keeps its first position.
  std::map<std::string, size_t> index;
  EnvList out;
  for (auto& [k, v] : pairs) {
    auto [it, fresh] = index.emplace(k, out.size());
    if (fresh) {
      out.emplace_back(k, v);
    } else {
      out[it->second].second = v;
    }
  }
  return out;
}

Result<LaunchPlan> BuildLaunch(const LaunchInput& in) {
  const ServiceSpec& spec = *in.spec;
  const auto& cmds = CommandsOf(spec, in.list);
  if (!in.command && in.index >= cmds.size())
    return Error{"internal error: no command " + std::to_string(in.index) + " in " +
                 CommandListName(in.list) + "="};
  const ExecCommand& cmd = in.command ? *in.command : cmds[in.index];
  LaunchPlan out;
  out.what = in.command ? in.command_what : std::string(CommandListName(in.list)) + "=" + cmd.path;
  out.path = cmd.path;
  SpawnPlan& plan = out.spawn;
  plan.path = cmd.path;

  EnvList env = *in.env;
  std::vector<std::string> envv;
  envv.reserve(env.size() + 8);
  for (const auto& [k, v] : env) envv.push_back(k + "=" + v);
  if (!in.is_main && in.main_pid) AddEnv("MAINPID", std::to_string(*in.main_pid), &env, &envv);
  const bool notify_type =
      spec.type == ServiceType::kNotify || spec.type == ServiceType::kNotifyReload;
  if (notify_type && in.notify_socket.empty())
    return Error{"Type=notify needs the notify socket: " + in.notify_error};
  if (!in.notify_socket.empty() && (notify_type || spec.notify_access != NotifyAccess::kNone))
    AddEnv("NOTIFY_SOCKET", in.notify_socket, &env, &envv);
  if (in.is_main && !in.fds.empty()) {
    // Socket activation, byte-for-byte as systemd: fds from 3 on, LISTEN_FDS, LISTEN_PID (the
    // child's own pid, filled in by the child), LISTEN_FDNAMES.
    std::string names;
    for (const PassedFd& f : in.fds) {
      plan.pass_fds.push_back(f.fd);
      if (!names.empty()) names += ':';
      names += f.name;
    }
    AddEnv("LISTEN_FDS", std::to_string(in.fds.size()), &env, &envv);
    AddEnv("LISTEN_FDNAMES", names, &env, &envv);
    plan.own_pid_env.emplace_back("LISTEN_PID");
  }
  if (in.is_main && in.watchdog.count() > 0 && in.watchdog != kInfinity) {
    AddEnv("WATCHDOG_USEC", std::to_string(in.watchdog.count()), &env, &envv);
    plan.own_pid_env.emplace_back("WATCHDOG_PID");
  }
  if (in.stop) {
    // As systemd: how the service ended, for ExecStop= and ExecStopPost=.
    AddEnv("SERVICE_RESULT", in.stop->service_result, &env, &envv);
    if (!in.stop->exit_code.empty()) {
      AddEnv("EXIT_CODE", in.stop->exit_code, &env, &envv);
      AddEnv("EXIT_STATUS", in.stop->exit_status, &env, &envv);
    }
  }
  plan.argv = ExpandCommand(cmd, env);
  if (plan.argv.empty())
    return Error{out.what + " (" + cmd.source + "): command line is empty after variable expansion"};
  plan.env = std::move(envv);
  SUPD_TRY(PlanIdentity(in, cmd, &plan));
  SUPD_TRY(PlanExecSettings(spec.exec, cmd.full_privileges, &plan));
  plan.require_limits = in.require_limits;
  plan.working_directory = spec.working_directory;
  if (plan.working_directory == "~")
    plan.working_directory = in.prepared->user ? in.prepared->user->home
                             : in.home.empty() ? "/"
                                               : in.home;
  plan.working_directory_optional = spec.working_directory_optional;
  return out;
}

const ExecStatus& Proc::ReadExec() {
  if (exec_status) UpdateExecStatus(exec_status.get(), path, working_directory, &exec);
  return exec;
}

}  // namespace supd
