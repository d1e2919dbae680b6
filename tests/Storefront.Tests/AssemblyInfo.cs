// Every test shares one app, one database and one storage account, and some stop Postgres on purpose.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
