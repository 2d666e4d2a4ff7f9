@stand:secured-process
Feature: Secured, real MirrorMaker 2 and Telegraf deliver as ours do
  On a stand secured as Sasquatch's clusters are (SASL/SCRAM-SHA-512 over
  TLS, the KafkaUsers' ACLs enforced by Apache Kafka, the registries
  behind basic auth), real MirrorMaker 2 as the replicator user and the
  project's replicator copy the same summit, and real Telegraf as the
  telegraf user writes the same points as the efdsink binary: security
  costs neither side a sample, and neither logs an error.

  Scenario: Every sample once on both sides, the same points
    When these topics are published on domain 0:
      | CSC    | topic             | rate | duration |
      | ATDome | position          | 10   | 2        |
      | MTM1M3 | forceActuatorData | 20   | 1        |
      | Test:1 | arrays            | 5    | 2        |
    Then every sample of ATDome "position" is in database "efd_telegraf" at "usdf" exactly once within 60 s
    And every sample of MTM1M3 "forceActuatorData" is in database "efd" at "usdf" exactly once within 60 s
    And every sample of Test:1 "arrays" is in database "efd" at "usdf" exactly once within 60 s
    And every sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf_mm2" exactly once within 60 s
    And sites "usdf" and "usdf_mm2" have the same topics within 60 s
    And databases "efd" and "efd_telegraf" at "usdf" hold the same points within 60 s
    And the sink "telegraf" logged no errors
    And the replication flow "theirs" logged no errors
    And the "replicator" user may read topic "lsst.sal.ATDome.position" at "summit"
    And the "telegraf" user may not write topic "summit.lsst.sal.ATDome.position" at "usdf"
    And a client without credentials is refused at "usdf_mm2"
    And the InfluxDB at "usdf" refuses a client without credentials
