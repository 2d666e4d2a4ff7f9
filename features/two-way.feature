@stand:two-way
Feature: Two-way replication between the summit and the USDF
  With a flow each way and every topic selected, a topic produced at one
  site appears once at the other, renamed with its source alias, and is
  never sent back: MirrorMaker 2's cycle detection.

  Scenario: Each site's topics reach the other once and never return
    When ATDome publishes "position" at 10 Hz for 1 s on domain 0
    And Test:1 publishes "scalars" at 10 Hz for 1 s on domain 5
    Then every sample of ATDome "position" is in topic "summit.lsst.sal.ATDome.position" at "usdf" exactly once within 20 s
    And every sample of Test:1 "scalars" is in topic "usdf.lsst.sal.Test.scalars" at "summit" exactly once within 20 s
    And topic "summit.registry-schemas" exists at "usdf"
    And topic "usdf.registry-schemas" exists at "summit"
    And topic "usdf.summit.lsst.sal.ATDome.position" does not exist at "summit"
    And topic "summit.usdf.lsst.sal.Test.scalars" does not exist at "usdf"
    And topic "summit.usdf.registry-schemas" does not exist at "usdf"
    And topic "usdf.summit.registry-schemas" does not exist at "summit"
    And heartbeats from "summit" to "usdf" arrive in topic "heartbeats" at "usdf" within 5 s
    And heartbeats from "usdf" to "summit" arrive in topic "heartbeats" at "summit" within 5 s
    And heartbeats from "summit" to "usdf" arrive in topic "usdf.heartbeats" at "summit" within 5 s
    And topic "summit.usdf.heartbeats" does not exist at "usdf"

  Scenario: Each site's EFD holds both sites' topics, every field as written, decoded through the right registry
    Each site's registry gives out its own ids, so the ids of the summit's
    ATDome topics are also ids of the USDF's Test topics. A sink that read
    a replica through its own site's registry would decode it with another
    topic's schema: lost points, or points of the wrong measurement.
    When these topics are published on domain 0:
      | CSC    | topic                  | rate | duration |
      | ATDome | position               | 10   | 1        |
      | ATDome | logevent_azimuthState  | 5    | 1        |
      | ATDome | logevent_emergencyStop | 5    | 1        |
    And these topics are published on domain 5:
      | CSC    | topic            | rate | duration |
      | Test:1 | scalars          | 10   | 1        |
      | Test:1 | arrays           | 10   | 1        |
      | Test:1 | logevent_scalars | 5    | 1        |
    Then every field of ATDome "position" in database "efd" at "summit" is as written
    And every field of ATDome "logevent_azimuthState" in database "efd" at "summit" is as written
    And every field of ATDome "logevent_emergencyStop" in database "efd" at "summit" is as written
    And every field of Test:1 "scalars" in database "efd" at "summit" is as written
    And every field of Test:1 "arrays" in database "efd" at "summit" is as written
    And every field of Test:1 "logevent_scalars" in database "efd" at "summit" is as written
    And every field of ATDome "position" in database "efd" at "usdf" is as written
    And every field of ATDome "logevent_azimuthState" in database "efd" at "usdf" is as written
    And every field of ATDome "logevent_emergencyStop" in database "efd" at "usdf" is as written
    And every field of Test:1 "scalars" in database "efd" at "usdf" is as written
    And every field of Test:1 "arrays" in database "efd" at "usdf" is as written
    And every field of Test:1 "logevent_scalars" in database "efd" at "usdf" is as written
    And database "efd" at "summit" holds no unexpected points
    And database "efd" at "usdf" holds no unexpected points
