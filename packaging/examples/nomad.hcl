# An example, not run here (no Nomad cluster was available; the HCL is not validated by any
# test): a Nomad job running the image of packaging/container/Containerfile with the docker
# driver, supd as PID 1 of the task's container and its units written by the job.
#
# Nomad sends kill_signal and waits kill_timeout before SIGKILL: 30 s, above supd's
# --stop-timeout (25 s), so supd stops every service in reverse dependency order first. When a
# unit with FailureAction=exit fails, supd exits with FailureActionExitStatus= and the task
# fails: the restart block below decides what Nomad does next.
job "hello" {
  datacenters = ["dc1"]
  type        = "service"

  group "hello" {
    count = 2

    network {
      port "http" {
        to = 8080
      }
      port "metrics" {
        to = 9464
      }
    }

    restart {
      attempts = 3
      interval = "5m"
      delay    = "15s"
      mode     = "delay"
    }

    task "supd" {
      driver       = "docker"
      kill_signal  = "SIGTERM"
      kill_timeout = "30s"

      config {
        image = "registry.example.com/supd:0.1.0"
        ports = ["http", "metrics"]
        # After the image's ENTRYPOINT (/usr/sbin/supd --units /etc/supd/units).
        args = ["--metrics-listen", "0.0.0.0:9464", "--stop-timeout", "25s"]

        # The units rendered below, read-only: supd enables units with [Install] WantedBy=
        # for each run (a warning in its log says the links could not be written).
        mount {
          type     = "bind"
          source   = "local/units"
          target   = "/etc/supd/units"
          readonly = true
        }
      }

      # Owned by root and not writable by others, or supd refuses the unit.
      template {
        destination = "local/units/hello.service"
        perms       = "644"
        data        = <<-UNIT
          [Unit]
          Description=Demo Go HTTP service
          FailureAction=exit
          FailureActionExitStatus=1

          [Service]
          Type=exec
          Environment=HELLO_ADDR=0.0.0.0:8080
          ExecStart=/usr/local/bin/hello
          Restart=on-failure
          TimeoutStopSec=10

          [Install]
          WantedBy=multi-user.target

          [X-Supd]
          ReadinessProbe=http://127.0.0.1:8080/healthz
          LivenessProbe=http://127.0.0.1:8080/healthz
        UNIT
      }

      service {
        name     = "hello"
        port     = "http"
        provider = "nomad"

        # 200 "running" once every unit started; 503 while starting, degraded or stopping.
        check {
          name     = "supd-ready"
          type     = "http"
          port     = "metrics"
          path     = "/readyz"
          interval = "10s"
          timeout  = "2s"
        }
      }

      resources {
        cpu    = 200
        memory = 128
      }
    }
  }
}
