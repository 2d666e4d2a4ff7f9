@stand:conformance @network-faults
Feature: MirrorMaker 2 and the replicator through the same partition
  The network between the summit and the USDF is partitioned for a minute
  under load, on both links at once: the one the project's replicator
  reads the summit over into "usdf", and the one real MirrorMaker 2 reads
  it over into "usdf_mm2". Both must lose nothing; the report gives each
  one's catch-up and duplicates side by side.

  Background:
    Given the stand is up

  Scenario: A 60 s partition: both replicators lose nothing, each catch-up reported
    When ATDome publishes "position" at 10 Hz for 80 s on domain 0 in the background
    And MTM1M3 publishes "forceActuatorData" at 50 Hz for 80 s on domain 0 in the background
    And 10 s pass
    And the link from "summit" to "usdf_mm2" is partitioned for 60 s in the background
    And the link from "summit" to "usdf" is partitioned for 60 s
    Then every sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf" at least once within 120 s
    And every sample of MTM1M3 "forceActuatorData" is in topic "summit.lsst.sal.MTM1M3.forceActuatorData" at "usdf" at least once within 120 s
    And every sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf_mm2" at least once within 120 s
    And every sample of MTM1M3 "forceActuatorData" is in topic "summit.lsst.sal.MTM1M3.forceActuatorData" at "usdf_mm2" at least once within 120 s
    And the catch-up after the link from "summit" to "usdf" healed took at most 90 s
    And the catch-up after the link from "summit" to "usdf_mm2" healed took at most 90 s
