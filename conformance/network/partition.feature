@stand:summit-loaded @network-faults
Feature: A partition between the summit and the USDF under nominal load
  The summit keeps writing every telemetry topic of its CSCs at the
  nominal profile's rates while the network between the summit and the
  USDF is partitioned for a minute: the replication's connections to the
  summit's Kafka hang, time out and retry, and nothing crosses until the
  link heals. Then the USDF catches up on the minute it missed: nothing is
  lost, duplicates are counted, and the catch-up is reported.

  Background:
    Given the stand is up

  Scenario: A 60 s partition summit to USDF loses nothing, and the USDF catches up
    When ATDome publishes "position" at 10 Hz for 80 s on domain 0 in the background
    And MTM1M3 publishes "forceActuatorData" at 50 Hz for 80 s on domain 0 in the background
    And Test:1 publishes "logevent_arrays" at 1 Hz for 80 s on domain 0 in the background
    And 10 s pass
    And the link from "summit" to "usdf" is partitioned for 60 s
    Then every sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf" at least once within 120 s
    And every sample of MTM1M3 "forceActuatorData" is in topic "summit.lsst.sal.MTM1M3.forceActuatorData" at "usdf" at least once within 120 s
    And every sample of Test:1 "logevent_arrays" is in topic "summit.lsst.sal.Test.logevent_arrays" at "usdf" at least once within 120 s
    And every sample published in this scenario is in database "efd" at "usdf" at least once within 120 s
    And the catch-up after the link from "summit" to "usdf" healed took at most 60 s
