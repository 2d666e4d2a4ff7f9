@stand:identity
Feature: Identity replication onto a site with its own registry
  IdentityReplicationPolicy keeps names: the summit's SAL topics arrive at
  the USDF as they are, and so does the summit's registry storage topic,
  into the USDF registry's own. Each registry gives out the next free id:
  once both have registered schemas, the summit's next id is already
  another schema at the USDF (at start too, when the two producers
  register at the same time). The stand flags the conflict instead of
  hiding it (and `stand validate` warns about such a stand).

  Scenario: Topics keep their names and the USDF registry reports schema id conflicts
    When ATDome publishes "position" at 10 Hz for 1 s on domain 0
    Then every sample of ATDome "position" is in topic "lsst.sal.ATDome.position" at "usdf" exactly once within 20 s
    And topic "summit.lsst.sal.ATDome.position" does not exist at "usdf"
    When CSC "MTM1M3" is added to producer "summit-salkafka"
    And MTM1M3 publishes "forceActuatorData" at 10 Hz for 1 s on domain 0
    Then every sample of MTM1M3 "forceActuatorData" is in topic "lsst.sal.MTM1M3.forceActuatorData" at "usdf" exactly once within 20 s
    And the registry at "usdf" reports schema id conflicts
    And the registry at "summit" reports no schema id conflicts
