@stand:conformance
Feature: MirrorMaker 2 and the replicator name replicas alike
  Real MirrorMaker 2 and the project's replicator, fed the same flow from
  the same summit cluster, each into a USDF cluster of its own, create the
  same topics there, and both copy every sample once; MM2 reads the
  producer's records without an error.

  Scenario: The same replicas, every sample once, on both sides
    When these topics are published on domain 0:
      | CSC    | topic             | rate | duration |
      | ATDome | position          | 10   | 2        |
      | MTM1M3 | forceActuatorData | 20   | 1        |
      | Test:1 | scalars           | 5    | 2        |
      | Test:1 | arrays            | 5    | 2        |
    Then every sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf" exactly once within 30 s
    And every sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf_mm2" exactly once within 60 s
    And every sample of MTM1M3 "forceActuatorData" is in topic "summit.lsst.sal.MTM1M3.forceActuatorData" at "usdf_mm2" exactly once within 60 s
    And every sample of Test:1 "arrays" is in topic "summit.lsst.sal.Test.arrays" at "usdf_mm2" exactly once within 60 s
    And sites "usdf" and "usdf_mm2" have the same topics within 60 s
    And topic "summit.registry-schemas" exists at "usdf_mm2"
    And topic "summit.heartbeats" exists at "usdf_mm2"
    And topic "lsst.sal.ATDome.position" does not exist at "usdf_mm2"
    And the replication flow "theirs" logged no errors
