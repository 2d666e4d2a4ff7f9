@stand:kafka-era
Feature: Kafka-era SAL
  Since ts_salobj 8 a CSC writes to its site's Kafka itself: no SAL Kafka
  producer reads a DDS domain. Its topics are lsst.<subname>.<CSC>.<topic>,
  created before the first write and their schemas registered; the
  summit's replication and the USDF's sink take them from there. A CSC
  under test writes with a subname of its own and so never reaches what
  production consumes (lsst.sal.*), as a non-zero DDS domain never reached
  the production producer.

  Background:
    Given the stand is up

  Scenario: A Kafka-era CSC reaches the USDF's EFD exactly once, every field as written
    When ATDome publishes "position" at 10 Hz for 3 s to Kafka as writer "summit-cscs"
    And MTHexapod:1 publishes "logevent_inPosition" at 5 Hz for 2 s to Kafka as writer "summit-cscs"
    And Test:1 publishes "arrays" at 5 Hz for 2 s to Kafka as writer "summit-cscs"
    Then every sample of ATDome "position" is in topic "lsst.sal.ATDome.position" at "summit" exactly once within 10 s
    And every topic published in this scenario reaches "usdf" as "summit.<topic>" exactly once within 20 s
    And every sample of ATDome "position" is in database "efd" at "usdf" exactly once within 30 s
    And every sample of MTHexapod:1 "logevent_inPosition" is in database "efd" at "usdf" exactly once within 30 s
    And every field of ATDome "position" in database "efd" at "usdf" is as written
    And every field of Test:1 "arrays" in database "efd" at "usdf" is as written

  Scenario: A CSC under test with its own subname never reaches the production EFD
    When ATDome publishes "position" at 10 Hz for 2 s to Kafka as writer "test-cscs"
    Then every sample of ATDome "position" is in topic "lsst.test.ATDome.position" at "summit" exactly once within 10 s
    And no sample of ATDome "position" is in topic "lsst.sal.ATDome.position" at "summit" after 10 s
    And no sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf" after 0 s
    And ATDome "position" is reported as "not delivered" in database "efd" at "usdf" after 30 s
