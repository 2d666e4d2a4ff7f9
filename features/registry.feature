Feature: Schemas travel with the data between sites
  The summit registry keeps its schemas in the Kafka topic registry-schemas;
  replication copies it to the USDF as summit.registry-schemas, where a
  read-only registry serves it, so every schema id in a replicated record
  resolves there unchanged. A schema that breaks compatibility never
  reaches a topic.

  Background:
    Given the stand is up

  Scenario: Every schema id of replicated records resolves at the USDF
    When ATDome publishes "position" at 20 Hz for 1 s on domain 0
    And MTM1M3 publishes "forceActuatorData" at 50 Hz for 1 s on domain 0
    Then every sample of MTM1M3 "forceActuatorData" is in database "efd" at "usdf" exactly once within 20 s
    And topic "summit.registry-schemas" exists at "usdf"
    And every schema id in topic "summit.lsst.sal.ATDome.position" at "usdf" resolves at its registry to the schema it has at "summit"
    And every schema id in topic "summit.lsst.sal.MTM1M3.forceActuatorData" at "usdf" resolves at its registry to the schema it has at "summit"

  Scenario: A schema that breaks BACKWARD compatibility is refused at the producer
    When a producer starts at "summit" for ATDome with field "azimuthPosition" of "position" changed to "string"
    Then the producer is refused with an error naming "lsst.sal.ATDome.position-value"
    And no record was added to topic "lsst.sal.ATDome.position" at "summit"
