Feature: The EFD sink writes points as the EFD's Telegraf does, at least once
  The sink at the USDF turns every replicated SAL record into an InfluxDB
  point: measurement "lsst.sal.<CSC>.<topic>", time private_efdStamp at
  microsecond precision, arrays flattened to name0..nameN-1. Offsets are
  committed only after InfluxDB accepted the points, so a sink killed with
  SIGKILL loses nothing (what it wrote again overwrites itself).

  Background:
    Given the stand is up

  Scenario: Telemetry and events of several CSCs land field by field as written
    When ATDome publishes "position" at 10 Hz for 1 s on domain 0
    And MTHexapod:1 publishes "actuators" at 10 Hz for 1 s on domain 0
    And MTM1M3 publishes "forceActuatorData" at 50 Hz for 1 s on domain 0
    And MTM1M3 publishes "logevent_detailedState" at 5 Hz for 1 s on domain 0
    And Test:1 publishes "arrays" at 10 Hz for 1 s on domain 0
    And Test:1 publishes "logevent_scalars" at 10 Hz for 1 s on domain 0
    And ATCamera publishes "power" at 20 Hz for 1 s on domain 0
    And ATCamera publishes "vacuum" at 20 Hz for 1 s on domain 0
    Then every field of ATDome "position" in database "efd" at "usdf" is as written
    And every field of MTHexapod:1 "actuators" in database "efd" at "usdf" is as written
    And every field of MTM1M3 "forceActuatorData" in database "efd" at "usdf" is as written
    And every field of MTM1M3 "logevent_detailedState" in database "efd" at "usdf" is as written
    And every field of Test:1 "arrays" in database "efd" at "usdf" is as written
    And every field of Test:1 "logevent_scalars" in database "efd" at "usdf" is as written
    And every field of ATCamera "power" in database "efd" at "usdf" is as written
    And every field of ATCamera "vacuum" in database "efd" at "usdf" is as written

  Scenario: Events half a millisecond apart are not merged
    When Test:1 publishes "logevent_scalars" at 2000 Hz for 0.5 s on domain 0
    Then every sample of Test:1 "logevent_scalars" is in database "efd" at "usdf" exactly once within 20 s

  Scenario: A sink killed with SIGKILL mid-stream and restarted loses nothing
    When MTM1M3 publishes "forceActuatorData" at 50 Hz for 4 s on domain 0 in the background
    And 1.5 s pass
    And the sink "usdf-efd" is killed
    And 1 s pass
    And the sink "usdf-efd" is restarted
    Then every sample of MTM1M3 "forceActuatorData" is in database "efd" at "usdf" exactly once within 30 s

  Scenario: A sink stopped while traffic flows catches up when it is back
    When the sink "usdf-efd" is stopped
    And MTM1M3 publishes "forceActuatorData" at 50 Hz for 2 s on domain 0
    And the sink "usdf-efd" is restarted
    Then the lag of the sink "usdf-efd" drains within 20 s
    And every sample of MTM1M3 "forceActuatorData" is in database "efd" at "usdf" exactly once within 20 s
    And the lag of the replication flow "summit->usdf" drains within 5 s
