@stand:non-sal
Feature: Analysis metrics through the REST proxy
  Analysis tools post metrics that are not SAL's to Sasquatch's REST proxy
  (Confluent's v2 produce API, Avro in JSON with the schema, then its id):
  the proxy registers the schema and writes the Confluent wire format, and
  the sink writes each metric into database "dm" at its own timestamp,
  its dimensions as tags. The proxy's token writes lsst.dm topics only.

  Scenario: Posted metrics land in "dm" with their tags
    When 20 metrics "lsst.dm.photometricRepeatability" with tags "instrument=LSSTCam,band=r" are posted to the REST proxy "usdf-rest" with token "dm-token" at 20 Hz
    And 5 metrics "lsst.dm.psfSize" with tags "instrument=LATISS,band=i" are posted to the REST proxy "usdf-rest" with token "dm-token" at 10 Hz
    Then every posted metric "lsst.dm.photometricRepeatability" is in database "dm" at "usdf" with its tags within 20 s
    And every posted metric "lsst.dm.psfSize" is in database "dm" at "usdf" with its tags within 20 s
    And topic "lsst.dm.photometricRepeatability" exists at "usdf"

  Scenario: The proxy refuses what the token may not write
    Then the REST proxy "usdf-rest" refuses a post to topic "lsst.sal.ATDome.position" with token "dm-token" with status 403
    And the REST proxy "usdf-rest" refuses a post to topic "lsst.dm.photometricRepeatability" with status 401
    And the REST proxy "usdf-rest" refuses a post to topic "lsst.dm.neverCreated" with token "dm-token" with status 404
